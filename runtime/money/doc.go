// Package money holds posrt's one representation of an amount: an integer
// number of fen (1/100 yuan), with the strict parsing that keeps a cashier
// or cash register from ever charging in the wrong unit.
package money
