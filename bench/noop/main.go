// Command noop is the benchmark floor: a composition function on the same
// SDK version as function-squonk2-viz that returns the desired state
// unchanged. What it costs per call is what any function pays for gRPC,
// protobuf and the SDK.
//
// With -response it instead returns the response in that file (protobuf
// JSON) to every call, with the call's tag: the floor for any function that
// answers with that response, whatever it does to compose it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"google.golang.org/protobuf/encoding/protojson"

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

// fixed answers every call with the same response.
type fixed struct {
	fnv1.UnimplementedFunctionRunnerServiceServer
	rsp *fnv1.RunFunctionResponse
}

// RunFunction returns the fixed response with the request's tag. The
// response shares everything but its meta with the fixed one, as a function
// that caches what it composes does.
func (f fixed) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	return &fnv1.RunFunctionResponse{
		Meta:         &fnv1.ResponseMeta{Tag: req.GetMeta().GetTag(), Ttl: f.rsp.GetMeta().GetTtl()},
		Desired:      f.rsp.GetDesired(),
		Results:      f.rsp.GetResults(),
		Context:      f.rsp.GetContext(),
		Requirements: f.rsp.GetRequirements(),
		Conditions:   f.rsp.GetConditions(),
		Output:       f.rsp.GetOutput(),
	}, nil
}

func main() {
	address := flag.String("address", "127.0.0.1:9443", "address to listen at")
	respond := flag.String("response", "", "answer every call with the response in this file (protobuf JSON)")
	flag.Parse()
	var server fnv1.FunctionRunnerServiceServer = noop{}
	if *respond != "" {
		rsp, err := load(*respond)
		if err != nil {
			fail(err)
		}
		server = fixed{rsp: rsp}
	}
	if err := function.Serve(server, function.Listen("tcp", *address), function.Insecure(true), function.WithMetricsServer("")); err != nil {
		fail(err)
	}
}

func load(file string) (*fnv1.RunFunctionResponse, error) {
	b, err := os.ReadFile(file) //nolint:gosec // The benchmark names its own file.
	if err != nil {
		return nil, err
	}
	rsp := &fnv1.RunFunctionResponse{}
	if err := protojson.Unmarshal(b, rsp); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rsp, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "noop:", err)
	os.Exit(1)
}
