// Package faults is the fault injection the fake plugins share: latency on
// every call and a crash of the plugin process after a number of calls, set
// by the plugin's configuration keys "latency" (a Go duration) and
// "crash_after" (a count of calls that succeed before the process exits);
// and Prepare, the checks every fake's Configure makes before it changes
// anything.
package faults
