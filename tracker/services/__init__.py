"""Business rules. Views and the JSON API call these; nothing here touches a request."""
