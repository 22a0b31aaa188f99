//go:build !unix

package journal

import "os"

// lockFile is a no-op where flock does not exist: there the directory is not
// protected against a second process.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }

// syncDir is a no-op where directories cannot be opened for syncing.
func syncDir(string) error { return nil }
