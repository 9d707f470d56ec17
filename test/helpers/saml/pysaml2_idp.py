"""An independent SAML IdP for interoperability tests: IdentityPython's pysaml2 (Debian python3-pysaml2,
signing with xmlsec1), served by the standard library on 127.0.0.1.

  GET  /metadata  pysaml2's own IdP metadata (entity_descriptor of its config)
  POST /sso       parses our AuthnRequest with pysaml2 (HTTP-POST binding, signature checked against our SP
                  metadata, fetched from --sp-metadata-url on first use) and answers at once as --user:
                  a Response whose Assertion pysaml2 signs (rsa-sha256); with --encrypt, pysaml2 also
                  encrypts the Assertion with its default algorithms.
  POST /slo       Single Logout (HTTP-POST): the SP's LogoutRequest, parsed and its signature checked by pysaml2
                  against the SP metadata, answered with a LogoutResponse pysaml2 signs (an auto-posting form to
                  the SP's SingleLogoutService); or the SP's LogoutResponse to ours, parsed and checked by
                  pysaml2 (answers "logout-response <status>")
  GET  /initiate-logout?name_id=..&session_index=..
                  IdP-initiated: a LogoutRequest pysaml2 signs for that NameID and SessionIndex, addressed to
                  the SP's HTTP-POST SingleLogoutService (answers its base64, for the test to post)

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
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.time_util import in_a_while

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
                    "single_logout_service": [(base + "/slo", BINDING_HTTP_POST)],
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
            url = urlparse(self.path)
            if url.path == "/metadata":
                self.reply(200, str(entity_descriptor(config(args, base))), "application/samlmetadata+xml")
            elif url.path == "/initiate-logout":
                query = parse_qs(url.query)
                try:
                    idp = server()
                    sp_entity = list(idp.metadata.service_providers())[0]
                    destination = idp.metadata.single_logout_service(sp_entity, BINDING_HTTP_POST, "spsso")[0]["location"]
                    _, request = idp.create_logout_request(
                        destination,
                        sp_entity,
                        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=query["name_id"][0]),
                        session_indexes=query.get("session_index", []),
                        expire=in_a_while(minutes=5),
                        sign=True,
                        sign_alg=RSA_SHA256,
                        digest_alg=SHA256,
                    )
                except Exception as error:
                    return self.reply(400, "pysaml2 could not build the request: %s: %s" % (type(error).__name__, error))
                self.reply(200, base64.b64encode(str(request).encode("utf-8")).decode("ascii"), "text/plain")
            else:
                self.reply(404, "not found")

        def single_logout(self, form):
            idp = server()
            if "SAMLResponse" in form:
                try:
                    response = idp.parse_logout_request_response(form["SAMLResponse"][0], BINDING_HTTP_POST)
                    status = response.response.status.status_code.value
                except Exception as error:
                    return self.reply(400, "pysaml2 refused the response: %s: %s" % (type(error).__name__, error))
                return self.reply(200, "logout-response %s" % status, "text/plain")
            try:
                req = idp.parse_logout_request(form["SAMLRequest"][0], BINDING_HTTP_POST)
                if req is None:
                    raise ValueError("not a valid LogoutRequest")
                response = idp.create_logout_response(
                    req.message, [BINDING_HTTP_POST], sign=True, sign_alg=RSA_SHA256, digest_alg=SHA256
                )
                destination = idp.metadata.single_logout_service(
                    req.message.issuer.text, BINDING_HTTP_POST, "spsso")[0]["location"]
            except Exception as error:
                return self.reply(400, "pysaml2 refused the request: %s: %s" % (type(error).__name__, error))
            encoded = base64.b64encode(str(response).encode("utf-8")).decode("ascii")
            relay = form.get("RelayState", [""])[0]
            self.reply(200, '<form method="post" action="%s"><input type="hidden" name="SAMLResponse" value="%s">'
                            '<input type="hidden" name="RelayState" value="%s"></form>'
                       % (html.escape(destination), encoded, html.escape(relay)))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            if self.path == "/slo":
                return self.single_logout(form)
            if self.path != "/sso":
                return self.reply(404, "not found")
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
