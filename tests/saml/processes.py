"""Start the test SAML identity provider (tests/saml/idp.py) as a real process on 127.0.0.1 (a
free port), and the helpers the tests use to talk to it."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@contextmanager
def saml_idp(program: str = "idp.py", env: dict | None = None):
    """Yield {"base", "metadata"} of a running identity provider (``idp.py``, the tests' own, or
    ``pysaml2_idp.py``, pysaml2's), with ``env`` added to its environment; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / program)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the SAML identity provider did not start")
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def authn_request(url: str) -> dict:
    """The AuthnRequest carried by an HTTP-Redirect URL: its ID, ACS URL and issuer (audience)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15)
    root = etree.fromstring(xml)
    issuer = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer").text
    return {"id": root.get("ID"), "acs": root.get("AssertionConsumerServiceURL"), "audience": issuer}


def crafted(idp: dict, **fields) -> str:
    answer = requests.post(f"{idp['base']}/craft", json=fields, timeout=10)
    answer.raise_for_status()
    return answer.json()["SAMLResponse"]


def sign_in_at_idp(url: str, email: str, authn_context: str = "") -> str:
    """Fill the identity provider's own page as a person would; the SAMLResponse it posts back.
    ``authn_context``: the AuthnContextClassRef the provider states (else Password)."""
    page = requests.get(url, timeout=10)
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', page.text))
    fields = {k: v.replace("&amp;", "&").replace("&quot;", '"') for k, v in fields.items()}
    if authn_context:
        fields["authn_context"] = authn_context
    answer = requests.post(urlsplit(url)._replace(query="").geturl(), data={**fields, "email": email}, timeout=10)
    return re.search(r'name="SAMLResponse" value="([^"]+)"', answer.text).group(1)


def sign_in_at_pysaml2(url: str, email: str, authn_context: str = "") -> str:
    """The same at pysaml2's identity provider (``pysaml2_idp.py``): its page, then the
    SAMLResponse of the auto-posting page pysaml2 answers with."""
    page = requests.get(url, timeout=10)
    fields = dict(re.findall(r'name="([A-Za-z_]+)" value="([^"]*)"', page.text))
    fields = {k: v.replace("&amp;", "&").replace("&quot;", '"') for k, v in fields.items()}
    if authn_context:
        fields["authn_context"] = authn_context
    answer = requests.post(urlsplit(url)._replace(query="").geturl(), data={**fields, "email": email}, timeout=10)
    return re.search(r'name="SAMLResponse" value="([^"]+)"', answer.text).group(1)
