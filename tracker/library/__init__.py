from tracker.library import related
from tracker.library.views import bp

# Related titles and the sequel offer: their own module, under the library's rules.
bp.register_blueprint(related.bp)

__all__ = ["bp"]
