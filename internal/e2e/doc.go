// Package e2e holds the process-level failure tests: real server binaries
// killed at crash points, several instances sharing one store under a
// drill while they are killed and restarted, and store outages. It has no
// code of its own outside its tests.
package e2e
