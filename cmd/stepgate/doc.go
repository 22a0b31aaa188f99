// Command stepgate is the step-up authentication decision point: one binary
// serving the decision API and the admin UI, plus the CLI for policies and
// the audit trail. See README.md for the commands.
//
// Everything is wired here and nowhere else: the configuration (YAML file
// overridden by STEPGATE_* variables), the logger, the storage driver
// (SQLite under data_dir, or PostgreSQL), the audit writer, and the adapters
// that let pdp and admin run on storage without importing it. main only
// turns signals into a context and calls run, which tests call directly.
package main
