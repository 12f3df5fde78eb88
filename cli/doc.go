// Package cli is posrt's command line (urfave/cli v2): run the terminal,
// list the configured plugins, and serve a built-in plugin when the runtime
// re-executes posrt as one. Exit codes are decided here and nowhere else.
package cli
