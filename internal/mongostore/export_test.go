package mongostore

// WriteLockCommand lets the external tests check that the command Topology
// sends is the one internal/embedded answers.
const WriteLockCommand = writeLockCommand
