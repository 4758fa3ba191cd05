"""A tiny authoritative DNS server for the tests: TXT records from a dict, over UDP on 127.0.0.1.

The portal looks records up with a real resolver (dnspython) pointed at this server through the
settings ``DNS_RESOLVER_NAMESERVERS`` and ``DNS_RESOLVER_PORT``; only the answers are ours (see ``serving``)::

    def test_x(dns):
        dns.records["acme.test"] = ["portal-verification=..."]

A name that is not in ``records`` answers NXDOMAIN; a name whose list is empty answers with no
records. Set ``failing = True`` to answer SERVFAIL to everything, like a broken server.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

MAX_STRING = 255  # one TXT character-string; longer values are split, as DNS providers do


class TxtDnsServer:
    def __init__(self):
        self.records: dict[str, list[str]] = {}
        self.failing = False
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)  # how often the loop looks at the stop flag
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-dns-server", daemon=True)

    def start(self) -> TxtDnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                query = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                continue  # not DNS: ignore, as a real server would
            self._socket.sendto(self.answer(query).to_wire(), client)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if self.failing:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        if question.rdtype == dns.rdatatype.TXT and self.records[name]:
            rrset = dns.rrset.RRset(question.name, dns.rdataclass.IN, dns.rdatatype.TXT)
            rrset.ttl = 60
            for value in self.records[name]:
                data = value.encode()
                chunks = [data[i : i + MAX_STRING] for i in range(0, len(data), MAX_STRING)] or [b""]
                rrset.add(TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks))
            response.answer.append(rrset)
        return response


@contextmanager
def serving(settings) -> Iterator[TxtDnsServer]:
    """Run a TxtDnsServer and point the portal's resolver at it (``settings`` is pytest-django's
    fixture, which undoes the change after the test). Each test module wraps it in a fixture::

        @pytest.fixture
        def dns(settings):
            with serving(settings) as server:
                yield server
    """
    server = TxtDnsServer().start()
    settings.DNS_RESOLVER_NAMESERVERS = ["127.0.0.1"]
    settings.DNS_RESOLVER_PORT = server.port
    try:
        yield server
    finally:
        server.stop()
