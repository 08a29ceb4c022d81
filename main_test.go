package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for localhost and its key, as PEM.
func (ca *testCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve runs the CLI as the function's binary would, without --insecure,
// until the test process ends, and waits for it to listen.
func serve(t *testing.T, certsDir string) string {
	t.Helper()
	address := freeAddress(t)
	cli := &CLI{Network: "tcp", Address: address, TLSServerCertsDir: certsDir, MaxRecvMessageSize: 4}
	errs := make(chan error, 1)
	go func() { errs <- cli.Run() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errs:
			t.Fatalf("the function stopped: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", address, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return address
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the function did not listen on %s", address)
	return ""
}

// TestServeRequiresClientCertificates serves the function with mTLS, with
// certificates made here, and calls it as Crossplane would, and as others
// might.
func TestServeRequiresClientCertificates(t *testing.T) {
	t.Setenv("INGRESS_DOMAIN", "viz.example.org")
	serverCA, otherCA := newTestCA(t, "function-ca"), newTestCA(t, "other-ca")

	dir := t.TempDir()
	crt, key := serverCA.issue(t, "function")
	for name, b := range map[string][]byte{"tls.crt": crt, "tls.key": key, "ca.crt": serverCA.pem} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	address := serve(t, dir)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(serverCA.pem)
	clientCert := func(ca *testCA) []tls.Certificate {
		c, k := ca.issue(t, "crossplane")
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{pair}
	}
	req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, map[string]any{
		"apiVersion": "squonk.it/v1", "kind": "DataVisualisation",
		"metadata": map[string]any{"name": "viz-1", "namespace": "dm"},
		"spec": map[string]any{"imDataManager": map[string]any{
			"imageTag": "1.0.0", "project": map[string]any{"claimName": "claim", "id": "project-1"},
		}},
	})}}}

	cases := map[string]struct {
		reason  string
		certs   []tls.Certificate
		refused bool
	}{
		"NoClientCertificate": {
			reason:  "A client without a certificate is refused.",
			refused: true,
		},
		"CertificateFromAnotherCA": {
			reason:  "A client whose certificate another CA signed is refused.",
			certs:   clientCert(otherCA),
			refused: true,
		},
		"CertificateFromTheCA": {
			reason: "A client with a certificate from the function's CA is served.",
			certs:  clientCert(serverCA),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			creds := credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: tc.certs, ServerName: "localhost", MinVersion: tls.VersionTLS12})
			conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rsp, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(ctx, req)
			if tc.refused {
				// The TLS handshake fails, so the call never reaches the
				// function; how the client hears of it varies.
				if status.Code(err) != codes.Unavailable || rsp != nil {
					t.Fatalf("%s\nRunFunction(...): want the connection refused (Unavailable), got %v", tc.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nRunFunction(...): %v", tc.reason, err)
			}
			if n := len(rsp.GetDesired().GetResources()); n != 3 {
				t.Errorf("%s\nRunFunction(...): want 3 desired resources, got %d (results: %v)", tc.reason, n, rsp.GetResults())
			}
		})
	}
}

// TestRunRefusesAnInvalidEnvironment checks that the function does not start
// with a bad setting, and says which variable is wrong.
func TestRunRefusesAnInvalidEnvironment(t *testing.T) {
	t.Setenv("SVO_IMAGE", "ghcr.io/org/app:1.0")
	err := (&CLI{Network: "tcp", Address: freeAddress(t), Insecure: true, MaxRecvMessageSize: 4}).Run()
	if err == nil || !strings.Contains(err.Error(), "env[SVO_IMAGE]") {
		t.Fatalf("Run(): want an error naming env[SVO_IMAGE], got %v", err)
	}
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMetricsAddress checks that metrics are served where Crossplane's
// package runtime expects them, port 8080, unless turned off.
func TestMetricsAddress(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   []string
		want   string
	}{
		"DefaultIsPort8080": {
			reason: "The runtime gives every function Deployment a metrics port 8080 and scrape annotations.",
			want:   ":8080",
		},
		"EmptyTurnsThemOff": {
			reason: "--metrics-address='' serves no metrics.",
			args:   []string{"--metrics-address="},
			want:   "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cli := &CLI{}
			parser, err := kong.New(cli)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parser.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if cli.MetricsAddress != tc.want {
				t.Errorf("%s\nParse(%q): MetricsAddress: want %q, got %q", tc.reason, tc.args, tc.want, cli.MetricsAddress)
			}
		})
	}
}
