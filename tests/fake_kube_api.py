"""A Kubernetes API server that only knows its own discovery documents, for
`kubectl apply --dry-run=client --validate=false` (tests/it_deploy_kubectl.sh):
kubectl maps each manifest's kind through discovery and asks whether the
object exists (404: it would be created). Nothing is stored. Prints its
port, serves 127.0.0.1 until killed."""
import http.server
import json
import sys

# group/version -> (resource, kind) of what lbharness deploy k8s writes
GROUPS = {
    "v1": [("configmaps", "ConfigMap"), ("persistentvolumeclaims", "PersistentVolumeClaim"),
           ("pods", "Pod"), ("services", "Service")],
    "apps/v1": [("statefulsets", "StatefulSet")],
    "batch/v1": [("jobs", "Job")],
}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/version":
            return self.reply(200, {"major": "1", "minor": "28", "gitVersion": "v1.28.0-fake"})
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                                    "serverAddressByClientCIDRs": []})
        if path == "/apis":
            groups = []
            for gv in GROUPS:
                if "/" in gv:
                    name, version = gv.split("/")
                    ref = {"groupVersion": gv, "version": version}
                    groups.append({"name": name, "versions": [ref], "preferredVersion": ref})
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        for gv, resources in GROUPS.items():
            if path == ("/api/v1" if gv == "v1" else "/apis/" + gv):
                return self.reply(200, {
                    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                    "resources": [{"name": r, "singularName": "", "namespaced": True, "kind": k,
                                   "verbs": ["create", "delete", "get", "list", "patch",
                                             "update", "watch"]} for r, k in resources]})
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "NotFound", "code": 404, "message": "not found"})


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
