package base

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs the current process as a plugin serving p under the name kind,
// over gRPC only. It also watches its parent: when the runtime that started
// it dies (even by SIGKILL) the plugin exits within half a second instead of
// living on as an orphan. Serve does not return.
//
// A call that names an instance (InstanceMetadata) is refused with
// codes.NotFound: this process serves one unnamed plugin, and a runtime
// that took it for a shared process learns so at its first call.
func Serve(kind string, p goplugin.Plugin) {
	if _, ok := p.(instanceServer); ok {
		routed, err := Instances(map[string]goplugin.Plugin{"": p})
		if err != nil {
			exitWith(err)
		}
		p = routed
	}
	serve(goplugin.PluginSet{kind: p})
}

// ServeInstances runs the current process as several plugins, instances
// mapping each instance key (the plugin's configured name, which the
// runtime sends with every call as InstanceMetadata) to that instance's
// glue; see Instances. It watches its parent as Serve does, and exits with
// a message on stderr when the instances cannot share the process. It does
// not return.
func ServeInstances(instances map[string]goplugin.Plugin) {
	p, err := Instances(instances)
	if err != nil {
		exitWith(err)
	}
	serve(goplugin.PluginSet{InstancesPluginName: p})
}

// pluginGCPercent is the GOGC of a plugin posrt builds.
const pluginGCPercent = 25

func serve(plugins goplugin.PluginSet) {
	// A device plugin is an I/O loop: on one processor the hand-offs
	// between gRPC's goroutines need no cross-thread wake-ups.
	runtime.GOMAXPROCS(1)
	// Its live heap is small (a few MB) and what it allocates is garbage
	// within a call: collecting at a quarter more than the live heap,
	// instead of the runtime's doubling (and its 4 MB floor), keeps an
	// idle plugin answering health checks from growing to that floor, at
	// the cost of a sub-millisecond collection now and then. GOGC in the
	// environment still decides, when the runtime or a deployer sets it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(pluginGCPercent)
	}
	go exitWhenOrphaned(os.Getppid(), 250*time.Millisecond)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugins,
		GRPCServer:      grpcServer,
		Logger:          Logger(),
	})
	os.Exit(0)
}

func exitWith(err error) {
	fmt.Fprintf(processStderr, "posrt plugin: %v\n", err)
	os.Exit(1)
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
