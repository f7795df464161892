// Package upcloud is a stateful fake of the UpCloud API 1.3 for tests and local runs: an HTTP server
// that takes the JSON requests upcloud-go-api sends and answers in UpCloud's real wire format — the
// wrapped lists ({"servers": {"server": [...]}}), numbers as strings where UpCloud sends strings,
// "yes"/"no" booleans — and its error shape, {"error": {"error_code": "SERVER_NOT_FOUND",
// "error_message": "…"}}, with UpCloud's codes and HTTP statuses.
//
// It keeps servers (created with storage devices cloned from a template or blank, labels, networking,
// a login user with SSH keys, user data), storages, private networks and per-server firewall rules in
// memory, and serves the zone, plan and price catalogues. State changes take time, as on UpCloud: a
// new or starting server is in maintenance before it is started, a stopping one in maintenance before
// it is stopped; a cloned storage is maintenance before online. Requests are authenticated with HTTP
// basic auth or a bearer token.
//
// Tests inject faults with Server.Inject (an error answered N times — 429 for throttling — optionally
// after the work was done, as when a response is lost) and latency per operation with SetLatency. One
// Server is safe for concurrent use.
package upcloud
