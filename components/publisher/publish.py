#!/usr/bin/env python3
"""Publish the sample API to WSO2 API Manager 4.x through its REST APIs, idempotently.

Runs as a Kubernetes Job next to the control plane. It waits until the control plane is
ready, registers a REST client, gets a token, then creates the API (unless it exists),
deploys a revision to the gateway environment (unless one is deployed) and publishes it
(unless it is published). A second run finds everything done and changes nothing.

Settings come from the environment:
  APIM_URL         control plane base URL, e.g. https://apim-cp:9443       (required)
  APIM_USERNAME    admin user                                              (required)
  APIM_PASSWORD    admin password, from a Secret                           (required)
  API_NAME, API_CONTEXT, API_VERSION, API_ENDPOINT                         (required)
  GATEWAY_ENV      gateway environment name (default Default)
  GATEWAY_VHOST    virtual host of the gateway environment                 (required)
  WAIT_SECONDS     how long to wait for the control plane (default 1200)
  INSECURE_TLS     "true": accept the control plane's self-signed certificate, as it
                   ships; the traffic stays inside the cluster's network.
Exit status 0 when the API is published (now or before); 1 with a message otherwise.
"""

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PUBLISHER = "/api/am/publisher/v4"
SCOPES = "apim:api_view apim:api_create apim:api_publish apim:api_manage"


class Failure(Exception):
    """A call that failed; the message says which and why."""


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise Failure(f"environment variable {name} is required")
    return value


class Client:
    def __init__(self, base, insecure):
        self.base = base.rstrip("/")
        self.context = ssl.create_default_context()
        if insecure:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.bearer = None

    def call(self, method, path, body=None, form=None, auth=None, ok=(200, 201)):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth:
            headers["Authorization"] = auth
        elif self.bearer:
            headers["Authorization"] = "Bearer " + self.bearer
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise Failure(f"{method} {path}: {err}") from err
        if status not in ok:
            text = raw.decode(errors="replace")[:500]
            raise Failure(f"{method} {path}: HTTP {status}: {text}")
        return json.loads(raw) if raw else {}


def wait_ready(client, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.call("GET", "/api/am/gateway/v2/server-startup-healthcheck")
            return
        except Failure as err:
            if time.monotonic() > deadline:
                raise Failure(f"control plane not ready after {seconds}s: {err}") from err
            time.sleep(10)


def login(client, username, password):
    basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    reg = client.call("POST", "/client-registration/v0.17/register", auth=basic, body={
        "clientName": "sample_api_publisher", "owner": username, "saasApp": True,
        "grantType": "password refresh_token", "callbackUrl": "https://localhost",
    })
    client_auth = "Basic " + base64.b64encode(f"{reg['clientId']}:{reg['clientSecret']}".encode()).decode()
    grant = client.call("POST", "/oauth2/token", auth=client_auth, form={
        "grant_type": "password", "username": username, "password": password, "scope": SCOPES,
    })
    client.bearer = grant["access_token"]


def find_api(client, name, version):
    query = urllib.parse.quote(f"name:\"{name}\" version:{version}")
    found = client.call("GET", f"{PUBLISHER}/apis?query={query}")
    for api in found.get("list", []):
        if api.get("name") == name and api.get("version") == version:
            return api
    return None


def publish(settings):
    client = Client(settings["url"], settings["insecure"])
    wait_ready(client, settings["wait"])
    login(client, settings["username"], settings["password"])

    api = find_api(client, settings["name"], settings["version"])
    if api is None:
        endpoint = {"url": settings["endpoint"]}
        api = client.call("POST", f"{PUBLISHER}/apis", body={
            "name": settings["name"], "context": settings["context"], "version": settings["version"],
            "endpointConfig": {"endpoint_type": "http", "production_endpoints": endpoint, "sandbox_endpoints": endpoint},
            "policies": ["Unlimited"],
            "operations": [{"target": "/*", "verb": verb, "throttlingPolicy": "Unlimited",
                            "authType": "Application & Application User"} for verb in ("GET", "POST")],
        })
        print(f"created API {settings['name']} {settings['version']} ({api['id']})")
    api_id = api["id"]

    deployments = client.call("GET", f"{PUBLISHER}/apis/{api_id}/deployments")
    if not (deployments.get("list") if isinstance(deployments, dict) else deployments):
        revision = client.call("POST", f"{PUBLISHER}/apis/{api_id}/revisions", body={"description": "sample API"})
        client.call("POST", f"{PUBLISHER}/apis/{api_id}/deploy-revision?revisionId={revision['id']}", body=[{
            "name": settings["gateway_env"], "vhost": settings["vhost"], "displayOnDevportal": True,
        }])
        print(f"deployed revision {revision['id']} to {settings['gateway_env']}")

    if api.get("lifeCycleStatus") != "PUBLISHED":
        client.call("POST", f"{PUBLISHER}/apis/change-lifecycle?apiId={api_id}&action=Publish")
        print(f"published {settings['name']} {settings['version']} at {settings['context']}")
    else:
        print(f"{settings['name']} {settings['version']} is already published; nothing to do")


def main():
    try:
        settings = {
            "url": env("APIM_URL"), "username": env("APIM_USERNAME"), "password": env("APIM_PASSWORD"),
            "name": env("API_NAME"), "context": env("API_CONTEXT"), "version": env("API_VERSION"),
            "endpoint": env("API_ENDPOINT"), "gateway_env": env("GATEWAY_ENV", "Default"),
            "vhost": env("GATEWAY_VHOST"), "wait": int(env("WAIT_SECONDS", "1200")),
            "insecure": os.environ.get("INSECURE_TLS") == "true",
        }
        publish(settings)
    except Failure as err:
        print(f"publisher: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
