"""An independent SAML IdP for interoperability tests: IdentityPython's pysaml2 (Debian python3-pysaml2,
signing with xmlsec1), served by the standard library on 127.0.0.1.

  GET  /metadata  pysaml2's own IdP metadata (entity_descriptor of its config)
  POST /sso       parses our AuthnRequest with pysaml2 (HTTP-POST binding, signature checked against our SP
                  metadata, fetched from --sp-metadata-url on first use) and answers at once as --user:
                  a Response whose Assertion pysaml2 signs (rsa-sha256); with --encrypt, pysaml2 also
                  encrypts the Assertion with its default algorithms.

Usage: python3 pysaml2_idp.py --port N --key key.pem --cert cert.pem --sp-metadata-url URL [--encrypt]
Prints "ready <port>" on stdout when listening.
"""
import argparse
import base64
import html
import os
import sys
import tempfile
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
PERSON = {"givenName": ["Ada"], "sn": ["Lovelace"], "mail": ["ada@example.org"], "schacDateOfBirth": ["18151210"]}


def config(args, base, sp_metadata_file=None):
    conf = {
        "entityid": base + "/metadata",
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(base + "/sso", BINDING_HTTP_POST), (base + "/sso", BINDING_HTTP_REDIRECT)],
                },
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": True,
                "sign_response": False,
                "sign_assertion": True,
            },
        },
        "key_file": args.key,
        "cert_file": args.cert,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "signing_algorithm": RSA_SHA256,
        "digest_algorithm": SHA256,
        "metadata": {"local": [sp_metadata_file]} if sp_metadata_file else {},
    }
    c = IdPConfig()
    c.load(conf)
    return c


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--sp-metadata-url", required=True)
    parser.add_argument("--encrypt", action="store_true")
    args = parser.parse_args()
    base = "http://127.0.0.1:%d" % args.port
    state = {"server": None}

    def server():
        if state["server"] is None:
            data = urllib.request.urlopen(args.sp_metadata_url, timeout=10).read()
            fd, path = tempfile.mkstemp(suffix=".xml")
            os.write(fd, data)
            os.close(fd)
            state["server"] = Server(config=config(args, base, path))
        return state["server"]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body, ctype="text/html"):
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            if self.path == "/metadata":
                self.reply(200, str(entity_descriptor(config(args, base))), "application/samlmetadata+xml")
            else:
                self.reply(404, "not found")

        def do_POST(self):
            if self.path != "/sso":
                return self.reply(404, "not found")
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            try:
                idp = server()
                req = idp.parse_authn_request(form["SAMLRequest"][0], BINDING_HTTP_POST)
                message = req.message
                kwargs = {}
                if args.encrypt:
                    sp_cert = idp.metadata.certs(message.issuer.text, "spsso", "encryption")[0][1]
                    kwargs = {"encrypt_assertion": True, "encrypt_cert_assertion": sp_cert}
                response = idp.create_authn_response(
                    PERSON,
                    in_response_to=message.id,
                    destination=message.assertion_consumer_service_url,
                    sp_entity_id=message.issuer.text,
                    name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="ada-4711"),
                    authn={"class_ref": "http://eidas.europa.eu/LoA/substantial", "authn_auth": base},
                    sign_assertion=True,
                    sign_response=False,
                    sign_alg=RSA_SHA256,
                    digest_alg=SHA256,
                    **kwargs,
                )
            except Exception as error:  # the test reads the status and message
                return self.reply(400, "pysaml2 refused the request: %s: %s" % (type(error).__name__, error))
            encoded = base64.b64encode(str(response).encode("utf-8")).decode("ascii")
            relay = form.get("RelayState", [""])[0]
            self.reply(200, '<form method="post" action="%s"><input type="hidden" name="SAMLResponse" value="%s">'
                            '<input type="hidden" name="RelayState" value="%s"></form>'
                       % (html.escape(message.assertion_consumer_service_url), encoded, html.escape(relay)))

    httpd = HTTPServer(("127.0.0.1", args.port), Handler)
    print("ready %d" % args.port, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
