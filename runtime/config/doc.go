// Package config reads posrt.toml, the deployer's description of a
// terminal: its ids, the local ECR API address, the merchant's flow
// directory and the plugins to run. Without a file posrt uses the embedded
// default profile: the built-in fake devices and host simulator, so a new
// user gets a working terminal with one command.
package config
