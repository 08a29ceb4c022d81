// Command noop is the benchmark floor: a composition function on the same
// SDK version as function-squonk2-viz that returns the desired state
// unchanged. What it costs per call is what any function pays for gRPC,
// protobuf and the SDK.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	function "github.com/crossplane/function-sdk-go"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
)

type noop struct {
	fnv1.UnimplementedFunctionRunnerServiceServer
}

// RunFunction returns the desired state unchanged.
func (noop) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	return response.To(req, response.DefaultTTL), nil
}

func main() {
	address := flag.String("address", "127.0.0.1:9443", "address to listen at")
	flag.Parse()
	if err := function.Serve(noop{}, function.Listen("tcp", *address), function.Insecure(true), function.WithMetricsServer("")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
