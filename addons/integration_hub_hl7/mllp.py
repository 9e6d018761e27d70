"""MLLP (Minimal Lower Layer Protocol) framing and a threaded listener, with no ORM.

A frame is ``0x0B <message> 0x1C 0x0D``. The listener reads frames from many
connections at once, one thread per connection (bounded), hands each frame to a
``handler(frame, peer_address) -> ack bytes`` and writes the answer back before it
reads the next frame of that connection, so messages on one connection are handled in
order. A connection that sends nothing is closed after ``idle_timeout``; one whose
frame does not complete within ``frame_timeout`` (a client sending a byte a second) or
grows beyond ``max_frame_bytes`` is answered, when it can be, and closed. Other
connections never wait for it.
"""

import logging
import socket
import ssl
import threading
import time

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
POLL_SECONDS = 0.5

_logger = logging.getLogger(__name__)


class FrameError(ValueError):
    """The byte stream broke the framing: the connection is answered AR and closed."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def frame(payload):
    return START_BLOCK + payload + END_BLOCK


class FrameReader:
    """Cuts a byte stream into MLLP frames; bounded in memory by ``max_frame_bytes``."""

    def __init__(self, max_frame_bytes):
        self.max_frame_bytes = max_frame_bytes
        self.buffer = bytearray()
        self.started = False

    @property
    def in_frame(self):
        return self.started or bool(self.buffer)

    def feed(self, data):
        """The frames ``data`` completes; raises FrameError on garbage or oversize."""
        self.buffer += data
        frames = []
        while self.buffer:
            if not self.started:
                start = self.buffer.find(START_BLOCK)
                junk = self.buffer if start < 0 else self.buffer[:start]
                if junk.strip(b"\r\n\t "):
                    raise FrameError("no_start_block", "Bytes outside an MLLP frame.")
                if start < 0:
                    self.buffer.clear()
                    break
                del self.buffer[: start + 1]
                self.started = True
            end = self.buffer.find(END_BLOCK)
            if end < 0:
                if len(self.buffer) > self.max_frame_bytes:
                    raise FrameError(
                        "frame_too_large", f"The frame exceeds {self.max_frame_bytes} bytes."
                    )
                break
            if end > self.max_frame_bytes:
                raise FrameError(
                    "frame_too_large", f"The frame exceeds {self.max_frame_bytes} bytes."
                )
            frames.append(bytes(self.buffer[:end]))
            del self.buffer[: end + len(END_BLOCK)]
            self.started = False
        return frames


class MLLPServer:
    """A TCP (optionally TLS) listener speaking MLLP.

    ``handler(frame_bytes, peer_ip)`` returns the answer's bytes (unframed);
    ``refuse(error, peer_ip)`` returns the bytes answering a FrameError, or None.
    """

    def __init__(
        self,
        handler,
        *,
        host="0.0.0.0",
        port=2575,
        refuse=None,
        max_frame_bytes=1024 * 1024,
        idle_timeout=60.0,
        frame_timeout=30.0,
        max_connections=64,
        ssl_context=None,
    ):
        self.handler = handler
        self.refuse = refuse
        self.host = host
        self.port = port
        self.max_frame_bytes = max_frame_bytes
        self.idle_timeout = idle_timeout
        self.frame_timeout = frame_timeout
        self.max_connections = max_connections
        self.ssl_context = ssl_context
        self._socket = None
        self._stopping = threading.Event()
        self._connections = set()
        self._lock = threading.Lock()
        self._accept_thread = None

    # -- life cycle ---------------------------------------------------------------

    def start(self):
        """Bind and listen, then accept in a daemon thread. Returns the bound port."""
        sock = socket.create_server((self.host, self.port), reuse_port=False, backlog=128)
        sock.settimeout(POLL_SECONDS)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"mllp-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self.port

    def serve_forever(self):
        """Start and block until ``stop`` (for a dedicated worker process)."""
        if not self._socket:
            self.start()
        while not self._stopping.wait(POLL_SECONDS):
            pass

    def stop(self, timeout=5.0):
        self._stopping.set()
        if self._socket:
            self._socket.close()
        if self._accept_thread and self._accept_thread is not threading.current_thread():
            self._accept_thread.join(timeout)
        with self._lock:
            threads = list(self._connections)
        for thread in threads:
            thread.join(timeout)

    @property
    def connection_count(self):
        with self._lock:
            return len(self._connections)

    # -- connections --------------------------------------------------------------

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, address = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                _logger.exception("MLLP listener: accept failed")
                time.sleep(POLL_SECONDS)
                continue
            with self._lock:
                busy = len(self._connections) >= self.max_connections
            if busy:
                _logger.warning(
                    "MLLP listener: %s connections open, refusing %s",
                    self.max_connections,
                    address[0],
                )
                conn.close()
                continue
            thread = threading.Thread(
                target=self._serve_connection,
                args=(conn, address[0]),
                name=f"mllp-{address[0]}:{address[1]}",
                daemon=True,
            )
            with self._lock:
                self._connections.add(thread)
            thread.start()

    def _serve_connection(self, conn, peer):
        try:
            conn.settimeout(POLL_SECONDS)
            if self.ssl_context:
                conn = self._handshake(conn)
            self._read_frames(conn, peer)
        except (OSError, ssl.SSLError) as error:
            _logger.info("MLLP connection from %s closed: %s", peer, error)
        finally:
            try:
                conn.close()
            finally:
                with self._lock:
                    self._connections.discard(threading.current_thread())

    def _handshake(self, conn):
        conn.settimeout(self.frame_timeout)
        tls = self.ssl_context.wrap_socket(conn, server_side=True)
        tls.settimeout(POLL_SECONDS)
        return tls

    def _read_frames(self, conn, peer):
        reader = FrameReader(self.max_frame_bytes)
        last_frame = time.monotonic()
        frame_started = None
        while not self._stopping.is_set():
            now = time.monotonic()
            if frame_started is not None and now - frame_started > self.frame_timeout:
                _logger.info("MLLP connection from %s closed: frame not completed in time", peer)
                return
            if frame_started is None and now - last_frame > self.idle_timeout:
                _logger.debug("MLLP connection from %s closed: idle", peer)
                return
            try:
                data = conn.recv(65536)
            except (TimeoutError, ssl.SSLWantReadError):
                continue
            if not data:
                return
            try:
                frames = reader.feed(data)
            except FrameError as error:
                _logger.info("MLLP connection from %s refused: %s", peer, error.code)
                answer = self.refuse(error, peer) if self.refuse else None
                if answer:
                    self._send(conn, answer)
                return
            for payload in frames:
                self._send(conn, self._answer(payload, peer))
                last_frame = time.monotonic()
                frame_started = None
            if reader.in_frame and frame_started is None:
                frame_started = time.monotonic()
            elif not reader.in_frame:
                frame_started = None

    def _answer(self, payload, peer):
        try:
            return self.handler(payload, peer)
        except Exception:
            # The handler answers every error it knows; this is a bug: the sender
            # gets no answer, so it sends again, and the connection is closed.
            _logger.exception("MLLP handler failed on a frame from %s", peer)
            raise OSError("handler failed") from None

    def _send(self, conn, answer):
        conn.settimeout(self.frame_timeout)
        try:
            conn.sendall(frame(answer))
        finally:
            conn.settimeout(POLL_SECONDS)
