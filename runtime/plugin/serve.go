package plugin

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// Serve runs the current process as a plugin serving p under the name kind,
// over gRPC only. It also watches its parent: when the runtime that started
// it dies (even by SIGKILL) the plugin exits within half a second instead of
// living on as an orphan. Serve does not return.
func Serve(kind string, p goplugin.Plugin) {
	go exitWhenOrphaned(os.Getppid(), 250*time.Millisecond)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{kind: p},
		GRPCServer:      goplugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
	os.Exit(0)
}

func exitWhenOrphaned(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}
