"""The MLLP listener, started with Odoo when the option ``integration_hub_mllp_port`` is set.

Like queue_job's job runner, it needs this addon among the ``server_wide_modules`` and
patches Odoo's servers: a thread of the threaded server, or one dedicated worker
process of the prefork (multi-worker) server. Each frame is stored and queued in its own
transaction, and answered AA only once that transaction has committed.
"""

import functools
import logging
import ssl
import time

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service import server
from odoo.tools import config

from odoo.addons.integration_hub.exceptions import IntakeError

from . import hl7v2, mllp

_logger = logging.getLogger(__name__)
_security_logger = logging.getLogger("odoo.addons.integration_hub.security")

PORT_OPTION = "integration_hub_mllp_port"
INTERFACE_OPTION = "integration_hub_mllp_interface"
CERT_OPTION = "integration_hub_mllp_tls_cert"
KEY_OPTION = "integration_hub_mllp_tls_key"
IDLE_OPTION = "integration_hub_mllp_idle_timeout"
MAX_FRAME_OPTION = "integration_hub_mllp_max_frame_bytes"
MAX_CONNECTIONS_OPTION = "integration_hub_mllp_max_connections"


def ack(code, sniffed, *, message=None, error=None):
    """The bytes of the ACK answering a frame."""
    separators, control_id, charset = sniffed
    header = message.header if message else None
    text = hl7v2.build_ack(
        code,
        header,
        separators=message.separators if message else separators,
        control_id=control_id,
        text=error.message if error else "",
        error=error,
    )
    return hl7v2.encode(text, header.charset if header else charset)


def refuse_frame(error, _peer):
    """The answer to a broken byte stream (no start block, frame over the limit)."""
    return ack("AR", (hl7v2.DEFAULT_SEPARATORS, "", ""), error=hl7v2.HL7Error(str(error)))


def handle_frame(dbname, frame, peer):
    """Verify, store and queue one HL7 message received over MLLP; return its ACK."""
    sniffed = hl7v2.sniff(frame)
    try:
        message = hl7v2.parse(frame)
    except hl7v2.HL7Error as error:
        return ack(error.ack_code, sniffed, error=error)
    try:
        with Registry(dbname).check_signaling().cursor() as cr:
            _intake(api.Environment(cr, SUPERUSER_ID, {}), message, frame, peer)
        # The transaction committed: the message and its job are durable.
    except IntakeError as error:
        error = hl7v2.intake_error(error.status, error.code, error.message)
        return ack(error.ack_code, sniffed, message=message, error=error)
    except hl7v2.HL7Error as error:
        return ack(error.ack_code, sniffed, message=message, error=error)
    except psycopg2.Error as error:
        _logger.warning("MLLP: database unavailable (%s); answered AE", type(error).__name__)
        return ack(
            "AE",
            sniffed,
            message=message,
            error=hl7v2.HL7Error(
                "The message could not be stored; send it again.", hl7v2.ERR_INTERNAL
            ),
        )
    return ack("AA", sniffed, message=message)


def _intake(env, message, frame, peer):
    endpoints = env["integration.endpoint"]
    env = env(user=endpoints._webhook_uid(), su=True)
    endpoints = env["integration.endpoint"]
    header = message.header
    endpoint_id = endpoints._hl7_routes().get((header.sending_application, header.sending_facility))
    if not endpoint_id:
        _security_logger.warning(
            "MLLP message refused: no endpoint accepts sender %s at %s (remote %s)",
            header.sending_application[:64],
            header.sending_facility[:64],
            peer,
        )
        raise IntakeError(
            403,
            "sender_not_allowed",
            "MSH-3/MSH-4: no endpoint accepts this sending application and facility.",
        )
    profile = endpoints._webhook_profile(endpoint_id)
    try:
        if not profile.allows_address(peer):
            _security_logger.warning(
                "MLLP message refused: address %s not allowed on endpoint %s", peer, endpoint_id
            )
            raise IntakeError(403, "ip_not_allowed", "This address may not send to this endpoint.")
        if len(frame) > profile.max_body_bytes:
            raise IntakeError(
                413, "payload_too_large", f"The message exceeds {profile.max_body_bytes} bytes."
            )
        endpoints._hl7_intake(profile, message, frame)
    except (IntakeError, hl7v2.HL7Error):
        endpoints.browse(endpoint_id)._count_rejected()
        raise


# -- the listener in Odoo's servers ---------------------------------------------------


def enabled():
    return bool(config.get(PORT_OPTION)) and not config["stop_after_init"]


def _database():
    names = [name for name in (config["db_name"] or "").split(",") if name.strip()]
    return names[0].strip() if names else None


def build_server():
    """The MLLP server the configuration describes (not started), or None."""
    dbname = _database()
    if not dbname:
        _logger.error(
            "%s is set but db_name is not: the MLLP listener needs one database", PORT_OPTION
        )
        return None
    context = None
    if config.get(CERT_OPTION):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(config[CERT_OPTION], config.get(KEY_OPTION) or None)
    return mllp.MLLPServer(
        functools.partial(handle_frame, dbname),
        refuse=refuse_frame,
        host=config.get(INTERFACE_OPTION) or config.get("http_interface") or "0.0.0.0",
        port=int(config[PORT_OPTION]),
        max_frame_bytes=int(config.get(MAX_FRAME_OPTION) or 1024 * 1024),
        idle_timeout=float(config.get(IDLE_OPTION) or 60),
        max_connections=int(config.get(MAX_CONNECTIONS_OPTION) or 64),
        ssl_context=context,
    )


class WorkerMLLP(server.Worker):
    """The prefork server's worker process that runs the MLLP listener."""

    def __init__(self, multi):
        super().__init__(multi)
        self.watchdog_timeout = None
        self.listener = build_server()

    def sleep(self):
        pass

    def signal_handler(self, sig, frame):  # pylint: disable=missing-return
        super().signal_handler(sig, frame)
        if self.listener:
            self.listener.stop(timeout=0)

    def process_work(self):
        if not self.listener:
            time.sleep(60)
            return
        try:
            port = self.listener.start()
        except OSError as error:
            _logger.error("MLLP listener cannot listen: %s; trying again in 10 s", error)
            time.sleep(10)
            return
        _logger.info("MLLP listener on port %s (worker %s)", port, self.pid)
        self.listener.serve_forever()


_thread_listener = None
_orig_prefork_init = server.PreforkServer.__init__
_orig_prefork_spawn = server.PreforkServer.process_spawn
_orig_prefork_pop = server.PreforkServer.worker_pop
_orig_threaded_start = server.ThreadedServer.start
_orig_threaded_stop = server.ThreadedServer.stop


def _prefork_init(self, app):
    result = _orig_prefork_init(self, app)
    self.mllp_workers = {}
    return result


def _prefork_spawn(self):
    _orig_prefork_spawn(self)
    if hasattr(self, "mllp_workers") and not self.mllp_workers and enabled():
        self.worker_spawn(WorkerMLLP, self.mllp_workers)


def _prefork_pop(self, pid):
    _orig_prefork_pop(self, pid)
    if hasattr(self, "mllp_workers"):
        self.mllp_workers.pop(pid, None)


def _threaded_start(self, *args, **kwargs):
    global _thread_listener  # noqa: PLW0603 - one listener per server process
    result = _orig_threaded_start(self, *args, **kwargs)
    if not kwargs.get("stop") and enabled() and _thread_listener is None:
        listener = build_server()
        if listener:
            try:
                port = listener.start()
            except OSError as error:
                _logger.error("MLLP listener cannot listen: %s", error)
            else:
                _logger.info("MLLP listener on port %s (threaded server)", port)
                _thread_listener = listener
    return result


def _threaded_stop(self):
    global _thread_listener  # noqa: PLW0603
    if _thread_listener:
        _thread_listener.stop()
        _thread_listener = None
    return _orig_threaded_stop(self)


server.PreforkServer.__init__ = _prefork_init
server.PreforkServer.process_spawn = _prefork_spawn
server.PreforkServer.worker_pop = _prefork_pop
server.ThreadedServer.start = _threaded_start
server.ThreadedServer.stop = _threaded_stop
