from . import access_log, controllers, models, wizards


def _post_load():
    """Run at server start when the hub is a server-wide module, else when loaded:
    webhook URL tokens never reach the access log."""
    access_log.install()
