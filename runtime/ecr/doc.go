// Package ecr serves the terminal's local JSON API for a cash register (the
// MISPOS pattern): a sale request with an integer amount in fen, and the
// terminal's status with its plugins. Bad input is refused with HTTP 400
// and a specific error code before anything is journaled.
package ecr
