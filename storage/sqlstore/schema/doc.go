// Package schema is the versioned SQL schema of stepgate's store: an
// ordered list of migrations (raw DDL with {{pk}} and {{blob}} filled in
// per dialect) that Migrate applies once each, in one transaction, recorded
// in schema_migrations. Nothing is created by gorm's AutoMigrate. A schema
// change is a new migration appended to the list, never an edit of a
// released one. storage/sqlstore calls Migrate when it opens a database.
package schema
