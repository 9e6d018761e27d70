from . import controllers, listener, models
