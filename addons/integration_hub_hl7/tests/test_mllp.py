import functools
import socket
import threading
import time

from odoo.tests import BaseCase, HttpCase, tagged

from odoo.addons.integration_hub_billing.tests.common import BillingCase

from .. import hl7v2, listener, mllp
from .common import SAMPLE_NAMES, HL7CaseMixin, sample

SECURITY_LOGGER = "odoo.addons.integration_hub.security"


def read_frame(sock, timeout=5.0):
    """One MLLP frame's payload, or None when the server closed the connection."""
    sock.settimeout(timeout)
    data = b""
    while mllp.END_BLOCK not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    assert data.startswith(mllp.START_BLOCK), data[:10]
    return data[1 : data.index(mllp.END_BLOCK)]


@tagged("post_install", "-at_install")
class TestFrameReader(BaseCase):
    def test_frames_split_across_reads_and_several_in_one_read(self):
        reader = mllp.FrameReader(1024)
        stream = mllp.frame(b"MSH|one") + mllp.frame(b"MSH|two") + mllp.frame(b"MSH|three")
        frames = []
        for start in range(0, len(stream), 5):
            frames += reader.feed(stream[start : start + 5])
        self.assertEqual(frames, [b"MSH|one", b"MSH|two", b"MSH|three"])
        self.assertFalse(reader.in_frame)
        self.assertEqual(reader.feed(stream), [b"MSH|one", b"MSH|two", b"MSH|three"])

    def test_bytes_outside_a_frame_are_refused_but_newlines_between_frames_are_not(self):
        reader = mllp.FrameReader(1024)
        self.assertEqual(reader.feed(b"\r\n" + mllp.frame(b"MSH|a") + b"\n"), [b"MSH|a"])
        with self.assertRaises(mllp.FrameError) as caught:
            mllp.FrameReader(1024).feed(b"\x00\xffgarbage")
        self.assertEqual(caught.exception.code, "no_start_block")

    def test_a_frame_over_the_limit_is_refused_before_its_end_arrives(self):
        reader = mllp.FrameReader(100)
        reader.feed(mllp.START_BLOCK + b"x" * 60)
        with self.assertRaises(mllp.FrameError) as caught:
            reader.feed(b"x" * 60)
        self.assertEqual(caught.exception.code, "frame_too_large")
        with self.assertRaises(mllp.FrameError):
            mllp.FrameReader(100).feed(mllp.frame(b"x" * 101))


@tagged("post_install", "-at_install")
class TestMllpListener(HL7CaseMixin, BillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hl7()

    def setUp(self):
        super().setUp()
        self.server = self._start_server(self.env.cr.dbname)

    def _start_server(self, dbname, **options):
        server = mllp.MLLPServer(
            functools.partial(listener.handle_frame, dbname),
            refuse=listener.refuse_frame,
            host="127.0.0.1",
            port=0,
            **dict({"max_frame_bytes": 8192, "idle_timeout": 1.0, "frame_timeout": 1.0}, **options),
        )
        server.start()
        self.addCleanup(server.stop)
        return server

    def _connect(self, server=None):
        sock = socket.create_connection(("127.0.0.1", (server or self.server).port), timeout=5)
        self.addCleanup(sock.close)
        return sock

    def _exchange(self, sock, raw):
        sock.sendall(mllp.frame(raw))
        return hl7v2.parse_ack(read_frame(sock))

    def _closed_within(self, sock, seconds):
        """True when the server closes ``sock`` within ``seconds``."""
        sock.settimeout(seconds)
        try:
            while True:
                if not sock.recv(65536):
                    return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True

    def test_every_sample_on_one_connection_is_stored_then_acknowledged_aa_in_order(self):
        sock = self._connect()
        for name in SAMPLE_NAMES:
            with self.subTest(sample=name):
                raw = sample(name)
                control_id = hl7v2.parse(raw).header.control_id
                before = self._messages()
                code, acked_id, _text, _err = self._exchange(sock, raw)
                self.assertEqual((code, acked_id), ("AA", control_id))
                stored = self._messages() - before
                self.assertTrue(stored, "AA only once the message is stored")
                self.assertEqual(set(stored.mapped("raw_body")), {raw.decode()})
                self.assertTrue(all(m.job_id for m in stored))

    def test_frames_sent_together_are_answered_in_order(self):
        sock = self._connect()
        names = ("SIU_S12.hl7", "SIU_S14_completed.hl7", "SIU_S15_cancelled.hl7")
        sock.sendall(b"".join(mllp.frame(sample(name)) for name in names))
        acked = [hl7v2.parse_ack(read_frame(sock))[1] for _name in names]
        self.assertEqual(acked, ["SIU-5001-1", "SIU-5001-2", "SIU-5002-2"])

    def test_repeated_control_id_is_aa_with_same_body_and_ar_with_another(self):
        sock = self._connect()
        raw = sample("ADT_A04.hl7")
        self.assertEqual(self._exchange(sock, raw)[0], "AA")
        stored = self._messages()
        self.assertEqual(self._exchange(sock, raw)[0], "AA")
        other = raw.replace(b"Doe^Jane", b"Doe^Janet")
        code, _id, _text, err = self._exchange(sock, other)
        self.assertEqual((code, err), ("AR", hl7v2.ERR_DUPLICATE_KEY))
        self.assertEqual(self._messages(), stored)
        self.assertEqual(stored.mapped("duplicate_count"), [1, 1])

    def test_unknown_sender_is_refused_ar_and_logged_on_the_security_logger(self):
        sock = self._connect()
        raw = sample("ADT_A04.hl7").replace(b"|SCHED|CLINIC-N|", b"|INTRUDER|CLINIC-N|")
        with self.assertLogs(SECURITY_LOGGER, "WARNING") as logs:
            code, acked_id, _text, _err = self._exchange(sock, raw)
        self.assertEqual((code, acked_id), ("AR", "ADT-000123-1"))
        self.assertIn("INTRUDER", logs.output[0])
        self.assertFalse(self._messages())

    def test_address_outside_the_allowlist_is_refused_ar(self):
        self.endpoint.ip_allowlist = "10.0.0.0/8"
        self.env.flush_all()
        with self.assertLogs(SECURITY_LOGGER, "WARNING"):
            code = self._exchange(self._connect(), sample("ADT_A04.hl7"))[0]
        self.assertEqual(code, "AR")
        self.assertFalse(self._messages())

    def test_frame_without_msh_is_answered_ar_and_the_connection_goes_on(self):
        sock = self._connect()
        code, _id, _text, err = self._exchange(sock, b"PID|1||P-1\r")
        self.assertEqual((code, err), ("AR", hl7v2.ERR_SEGMENT_SEQUENCE))
        self.assertEqual(self._exchange(sock, sample("SIU_S12.hl7"))[0], "AA")

    def test_binary_garbage_is_answered_ar_and_the_connection_closed(self):
        sock = self._connect()
        sock.sendall(b"\x00\xff\xfe\x16\x03\x01garbage")
        self.assertEqual(hl7v2.parse_ack(read_frame(sock))[0], "AR")
        self.assertTrue(self._closed_within(sock, 3))

    def test_frame_over_the_limit_is_answered_ar_and_the_connection_closed(self):
        sock = self._connect()
        sock.sendall(mllp.START_BLOCK + b"MSH|^~\\&|" + b"x" * 9000)
        self.assertEqual(hl7v2.parse_ack(read_frame(sock))[0], "AR")
        self.assertTrue(self._closed_within(sock, 3))
        self.assertFalse(self._messages())

    def test_message_over_the_endpoint_max_body_is_refused_ar(self):
        self.endpoint.max_body_bytes = 100
        self.env.flush_all()
        self.assertEqual(self._exchange(self._connect(), sample("ADT_A04.hl7"))[0], "AR")
        self.assertFalse(self._messages())

    def test_truncated_frame_is_dropped_and_the_connection_closed(self):
        sock = self._connect()
        sock.sendall(mllp.START_BLOCK + sample("ADT_A04.hl7")[:50])
        self.assertTrue(self._closed_within(sock, 4))
        self.assertFalse(self._messages())

    def test_connection_that_sends_nothing_is_closed_after_the_idle_timeout(self):
        sock = self._connect()
        start = time.monotonic()
        self.assertTrue(self._closed_within(sock, 4))
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

    def test_a_client_sending_one_byte_at_a_time_blocks_no_one(self):
        slow = self._connect()
        stop = threading.Event()

        def trickle():
            for byte in mllp.START_BLOCK + sample("ADT_A04.hl7"):
                if stop.wait(0.2):
                    return
                try:
                    slow.send(bytes([byte]))
                except OSError:
                    return

        thread = threading.Thread(target=trickle)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)
        time.sleep(0.3)
        start = time.monotonic()
        self.assertEqual(self._exchange(self._connect(), sample("SIU_S12.hl7"))[0], "AA")
        self.assertLess(time.monotonic() - start, 0.9, "the slow client made another wait")
        self.assertTrue(self._closed_within(slow, 4), "the slow frame must time out")

    def test_database_outage_answers_ae_and_the_listener_goes_on(self):
        outage = self._start_server("hl7_no_such_database")
        code, acked_id, _text, err = self._exchange(self._connect(outage), sample("ADT_A04.hl7"))
        self.assertEqual((code, acked_id, err), ("AE", "ADT-000123-1", hl7v2.ERR_INTERNAL))
        self.assertEqual(self._exchange(self._connect(), sample("ADT_A04.hl7"))[0], "AA")

    def test_too_many_connections_are_refused_at_once(self):
        server = self._start_server(self.env.cr.dbname, max_connections=1, idle_timeout=5.0)
        first = self._connect(server)
        time.sleep(0.2)
        second = self._connect(server)
        self.assertTrue(self._closed_within(second, 2))
        self.assertEqual(self._exchange(first, sample("SIU_S12.hl7"))[0], "AA")
