// Package cloudsql provides Cloud SQL for MySQL for WSO2 API Manager: an instance reachable only
// by private IP through Private Service Access (an allocated range and the Service Networking
// peering), TLS required, automated backups with binary logs, and apim_db, shared_db and the
// application user.
package cloudsql
