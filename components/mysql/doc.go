// Package mysql provides MySQL 8.4 LTS as a single-replica StatefulSet for WSO2 API Manager:
// it creates apim_db and shared_db with a dedicated user on first start and loads the schema
// scripts shipped inside the API Manager image, so schema and server version cannot drift.
package mysql
