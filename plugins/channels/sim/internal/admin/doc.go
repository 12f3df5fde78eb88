// Package admin is the admin endpoint every host simulator serves beside
// its gateway: GET /ledger (the simulator's ledger, a JSON array), GET
// /faults (the faults pending) and POST /faults (one fault as JSON, its
// unknown fields refused), so a test or a deployer watches what the host
// booked and makes it misbehave on demand.
package admin
