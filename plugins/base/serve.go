package base

import (
	"os"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs the current process as a plugin serving p under the name kind,
// over gRPC only. It also watches its parent: when the runtime that started
// it dies (even by SIGKILL) the plugin exits within half a second instead of
// living on as an orphan. Serve does not return.
func Serve(kind string, p goplugin.Plugin) {
	// A device plugin is an I/O loop: on one processor the hand-offs
	// between gRPC's goroutines need no cross-thread wake-ups.
	runtime.GOMAXPROCS(1)
	go exitWhenOrphaned(os.Getppid(), 250*time.Millisecond)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{kind: p},
		GRPCServer:      grpcServer,
		Logger:          Logger(),
	})
	os.Exit(0)
}

// grpcServer is go-plugin's server with fixed flow-control windows, which
// turn off gRPC's bandwidth probes (a PING per data frame) that would double
// the cross-process wake-ups of every small call.
func grpcServer(opts []grpc.ServerOption) *grpc.Server {
	return goplugin.DefaultGRPCServer(append(opts, grpc.InitialWindowSize(1<<20), grpc.InitialConnWindowSize(1<<20)))
}

// processStderr is the process's stderr as it was before go-plugin's Serve
// redirected os.Stderr into its stdio stream; the runtime reads this one.
var processStderr = os.Stderr

// Logger returns the logger a plugin implementation logs with: JSON lines
// on the process's stderr, which the runtime merges into its own log under
// the plugin's configured name.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: processStderr, JSONFormat: true})
}

func exitWhenOrphaned(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}
