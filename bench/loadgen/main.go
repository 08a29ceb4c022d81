// Command loadgen drives a composition function over gRPC with one request,
// from a number of concurrent callers, and prints what it measured as JSON:
// requests per second, latency percentiles and errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/informaticsmatters/function-squonk2-viz/bench/fixture"
)

// Result is what one load run measured.
type Result struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50Ms"`
	P99ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
	FirstError  string  `json:"firstError,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9443", "the function's address (insecure gRPC)")
	xr := flag.String("xr", "bench/testdata/xr.yaml", "the observed DataVisualisation")
	observed := flag.String("observed", "bench/testdata/observed", "directory of observed composed resources; empty for none")
	input := flag.String("input", "", "the step's Input; empty for none")
	concurrency := flag.Int("c", 16, "concurrent callers")
	duration := flag.Duration("d", 10*time.Second, "how long to drive the function")
	warmup := flag.Duration("warmup", time.Second, "how long to drive it before measuring")
	saveResponse := flag.String("save-response", "", "instead of driving the function, call it once and write its response to this file, as protobuf JSON")
	unique := flag.Bool("unique", false, "give every call a DataVisualisation uid never sent before, so that nothing the function keeps per DataVisualisation is ever reused")
	flag.Parse()

	req, err := fixture.Load(*xr, *observed, *input)
	if err != nil {
		fail(err)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	client := fnv1.NewFunctionRunnerServiceClient(conn)
	if *saveResponse != "" {
		if err := save(client, req, *saveResponse); err != nil {
			fail(err)
		}
		return
	}
	if *warmup > 0 {
		drive(client, req, *concurrency, *warmup, *unique)
	}
	r := drive(client, req, *concurrency, *duration, *unique)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fail(err)
	}
}

// save calls the function once and writes its response to file.
func save(client fnv1.FunctionRunnerServiceClient, req *fnv1.RunFunctionRequest, file string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rsp, err := client.RunFunction(ctx, req)
	if err != nil {
		return err
	}
	b, err := protojson.Marshal(rsp)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

// setUID sets the uid of the request's observed DataVisualisation.
func setUID(req *fnv1.RunFunctionRequest, uid string) {
	req.GetObserved().GetComposite().GetResource().GetFields()["metadata"].GetStructValue().GetFields()["uid"] = structpb.NewStringValue(uid)
}

// drive calls the function with req from c callers for d, and measures each
// call. With unique, each caller sends its own copy of req instead, under a
// new uid on every call.
func drive(client fnv1.FunctionRunnerServiceClient, req *fnv1.RunFunctionRequest, c int, d time.Duration, unique bool) Result {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  string
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for caller := range c {
		wg.Add(1)
		go func() {
			var n int
			defer wg.Done()
			send := req
			if unique {
				send = proto.Clone(req).(*fnv1.RunFunctionRequest) //nolint:forcetypeassert // A clone has the type of its original.
			}
			local := make([]time.Duration, 0, 4096)
			var localErrs int
			var localFirst string
			for time.Now().Before(deadline) {
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if unique {
					setUID(send, fmt.Sprintf("unique-%d-%d", caller, n))
				}
				_, err := client.RunFunction(ctx, send)
				n++
				cancel()
				if err != nil {
					localErrs++
					if localFirst == "" {
						localFirst = err.Error()
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			if firstErr == "" {
				firstErr = localFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	ms := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := int(p*float64(len(latencies))+0.5) - 1
		return float64(latencies[max(0, min(i, len(latencies)-1))].Microseconds()) / 1000
	}
	return Result{
		Concurrency: c, Requests: len(latencies), Errors: errs, Seconds: elapsed,
		RPS: float64(len(latencies)) / elapsed, P50ms: ms(0.50), P99ms: ms(0.99), MaxMs: ms(1.0), FirstError: firstErr,
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
