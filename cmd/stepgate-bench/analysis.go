package main

// analysis is the part of the report that explains the numbers: where the
// time goes according to the profiles (go test -cpuprofile on the pdp
// benchmarks and pprof of a loaded server), written by whoever last
// profiled, so that a missed target says what is in the way.
func (b *bench) analysis() string {
	return profileNotes
}

const profileNotes = `
## Where the time goes

See the profiling notes in the commit history of ` + "`pdp/decisioncache.go`" + `.
`
