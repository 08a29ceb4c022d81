// Package main runs function-squonk2-viz: a Crossplane composition function
// that composes Squonk2 data-visualisation instances.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
	"google.golang.org/grpc/health"

	function "github.com/crossplane/function-sdk-go"

	"github.com/informaticsmatters/function-squonk2-viz/fn"
)

// version is the release, set when the binary is built.
var version = "v0.0.0-dev"

// CLI of this Function.
type CLI struct {
	Debug bool `help:"Emit debug logs in addition to info logs." short:"d"`

	Network            string `default:"tcp"   help:"Network on which to listen for gRPC connections."`
	Address            string `default:":9443" help:"Address at which to listen for gRPC connections."`
	TLSServerCertsDir  string `env:"TLS_SERVER_CERTS_DIR" help:"Directory containing server certs (tls.key, tls.crt) and the CA used to verify client certificates (ca.crt)." name:"tls-server-certs-dir"`
	Insecure           bool   `help:"Run without mTLS credentials. If you supply this flag --tls-server-certs-dir will be ignored."`
	MaxRecvMessageSize int    `default:"4"     help:"Maximum size of received messages in MB."`
	MetricsAddress     string `default:":8080" help:"Address at which to serve Prometheus metrics. Off when empty."`
}

// Run this Function.
func (c *CLI) Run() error {
	log, err := function.NewLogger(c.Debug)
	if err != nil {
		return err
	}
	settings := fn.DefaultSettings().WithEnvironment(os.LookupEnv)
	if errs := settings.Validate(); len(errs) > 0 {
		return fmt.Errorf("invalid environment: %w", errs.ToAggregate())
	}
	return function.Serve(fn.NewFunction(log, settings, version),
		function.Listen(c.Network, c.Address),
		function.MTLSCertificates(c.TLSServerCertsDir),
		function.Insecure(c.Insecure),
		function.MaxRecvMessageSize(c.MaxRecvMessageSize*1024*1024),
		function.WithHealthServer(health.NewServer()),
		function.WithMetricsServer(c.MetricsAddress))
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("A Crossplane composition function that composes Squonk2 data-visualisation instances.\n\n"+
		"It reads these environment variables at start, or, once Crossplane has fetched it, the\n"+
		"ConfigMap SVO_SETTINGS_CONFIGMAP names, whenever it changes; the Composition's Input\n"+
		"and each DataVisualisation's own fields win over them:\n\n"+fn.EnvironmentHelp()))
	ctx.FatalIfErrorf(ctx.Run())
}
