//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// config says where the suite finds what it runs.
type config struct {
	bin               string // the control plane's binaries
	repo              string // the repository, for its package/ and example/
	functionXpkg      string
	configurationXpkg string
	functionBinary    string // the function, as built into its package
	// The tools, each a binary in bin and its module under test/tools, of
	// Crossplane core and provider-kubernetes that the suite starts with.
	crossplaneTool, providerTool string
	dir                          string // the run directory: PKI, data, logs
}

// A cluster is a control plane on loopback: etcd, kube-apiserver and
// kube-controller-manager, Crossplane core and provider-kubernetes out of
// cluster, an OCI registry, and the function, served with mTLS.
type cluster struct {
	cfg        config
	ps         *processes
	kubeconfig string // for the commands of a person that the suite replays with kubectl
	restConfig *rest.Config
	kube       client.WithWatch
	// metricsHTTP reads the components' metrics, the API server's with
	// the admin's certificate.
	metricsHTTP *http.Client

	kubeCA, xfnCA *ca
	function      *process
	// functionBinary is the binary the function runs: the package's, or
	// the one an upgrade installed.
	functionBinary string
	functionAddr   string
	// endpoints are where the function of each package image listens, as
	// the package runtime the suite plays deploys it.
	endpoints sync.Map
	// functionMetricsAddr is where the function serves its metrics: the
	// runtime's port 8080, moved to loopback.
	functionMetricsAddr string
	functionArgs        []string
	functionEnv         []string
	crossplane          *process
	crossplaneArgs      []string
	crossplaneEnv       []string
	crossplaneBinary    string
	apiPort             string
	registry            string
	provider            *process
	providerMetricsAddr string
	// crossplaneMetricsAddr is where Crossplane core serves its metrics.
	crossplaneMetricsAddr string
	kubelet               *kubelet
	apiserver             *process
	apiserverArgs         []string
	admin                 keyPair
}

func (c *cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.cfg.dir}, elem...)...)
}

// kubectl runs kubectl against the cluster, with stdin: only where the
// suite replays what a person types (docs/migration.md, `auth can-i`).
func (c *cluster) kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.cfg.bin, "kubectl"), append([]string{"--kubeconfig", c.kubeconfig}, args...)...) //nolint:gosec // The suite's kubectl.
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// applyHelmCRD applies a CRD that a Helm chart templates, less its labels,
// whose values are templates.
func (c *cluster) applyHelmCRD(ctx context.Context, file string) error {
	crd, err := readObjects(file)
	if err != nil {
		return err
	}
	for _, o := range crd {
		o.SetLabels(nil)
	}
	return c.apply(ctx, crd...)
}

// applyTemplate applies the objects of a file under testdata/, its $NAMES
// filled in from values.
func (c *cluster) applyTemplate(ctx context.Context, file string, values map[string]string) error {
	objs, err := readTemplate(file, values)
	if err != nil {
		return err
	}
	return c.apply(ctx, objs...)
}

// startControlPlane starts etcd, kube-apiserver and kube-controller-manager
// with a PKI of their own, and writes an admin kubeconfig.
func (c *cluster) startControlPlane(ctx context.Context) error {
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]
	c.apiPort = fmt.Sprint(apiPort)

	pki := c.path("pki")
	if c.kubeCA, err = newCA("e2e-kubernetes-ca"); err != nil {
		return err
	}
	server, err := c.kubeCA.issue("kube-apiserver", nil,
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")
	if err != nil {
		return err
	}
	admin, err := c.kubeCA.issue("e2e-admin", []string{"system:masters"})
	if err != nil {
		return err
	}
	if err := writeTLSDir(filepath.Join(pki, "apiserver"), server, c.kubeCA.pem); err != nil {
		return err
	}
	caKey, err := x509.MarshalECPrivateKey(c.kubeCA.key)
	if err != nil {
		return err
	}
	if err := writeTLSDir(filepath.Join(pki, "ca"), keyPair{cert: c.kubeCA.pem, key: pemBlock("EC PRIVATE KEY", caKey)}, c.kubeCA.pem); err != nil {
		return err
	}
	saPub, saKey, err := writeServiceAccountKeys(pki)
	if err != nil {
		return err
	}

	if _, err := c.ps.start("etcd", nil, filepath.Join(c.cfg.bin, "etcd"),
		"--data-dir", c.path("etcd"),
		"--listen-client-urls", "http://"+addr(etcdClient), "--advertise-client-urls", "http://"+addr(etcdClient),
		"--listen-peer-urls", "http://"+addr(etcdPeer), "--initial-advertise-peer-urls", "http://"+addr(etcdPeer),
		"--initial-cluster", "default=http://"+addr(etcdPeer), "--unsafe-no-fsync"); err != nil {
		return err
	}
	apiDir := filepath.Join(pki, "apiserver")
	c.apiserverArgs = []string{
		"--etcd-servers", "http://" + addr(etcdClient),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		"--tls-cert-file", filepath.Join(apiDir, "tls.crt"), "--tls-private-key-file", filepath.Join(apiDir, "tls.key"),
		"--client-ca-file", filepath.Join(apiDir, "ca.crt"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", saPub, "--service-account-signing-key-file", saKey,
		// A /16 of Service IPs: the ceiling benchmark's 2,000 instances
		// each have a Service (a /24 is full at 254).
		"--service-cluster-ip-range", "10.96.0.0/16", "--authorization-mode", "RBAC",
		"--disable-admission-plugins", "ServiceAccount", "--cert-dir", c.path("apiserver-certs"),
	}
	c.kubeconfig = c.path("kubeconfig")
	if err := os.WriteFile(c.kubeconfig, []byte(kubeconfig("https://"+addr(apiPort), c.kubeCA.pem, admin)), 0o600); err != nil {
		return err
	}
	c.admin = admin
	if err := c.runAPIServer(ctx); err != nil {
		return err
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return err
	}
	restCfg.QPS, restCfg.Burst = 200, 400
	restCfg.WrapTransport = countRequests
	c.restConfig = restCfg
	if c.kube, err = newClient(restCfg); err != nil {
		return err
	}
	if c.metricsHTTP, err = rest.HTTPClientFor(restCfg); err != nil {
		return err
	}

	caDir := filepath.Join(pki, "ca")
	_, err = c.ps.start("kube-controller-manager", nil, filepath.Join(c.cfg.bin, "kube-controller-manager"),
		"--kubeconfig", c.kubeconfig, "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(kcmPort), "--leader-elect=false",
		"--service-account-private-key-file", saKey, "--root-ca-file", filepath.Join(caDir, "ca.crt"),
		"--cluster-signing-cert-file", filepath.Join(caDir, "tls.crt"), "--cluster-signing-key-file", filepath.Join(caDir, "tls.key"),
		"--controllers", "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-route")
	return err
}

// runAPIServer starts kube-apiserver as startControlPlane set it up, and
// waits until it is ready.
func (c *cluster) runAPIServer(ctx context.Context) error {
	var err error
	c.apiserver, err = c.ps.start("kube-apiserver", nil, filepath.Join(c.cfg.bin, "kube-apiserver"), c.apiserverArgs...)
	if err != nil {
		return err
	}
	return waitReady(ctx, "https://127.0.0.1:"+c.apiPort+"/readyz", c.kubeCA.pem, c.admin, c.apiserver)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func kubeconfig(server string, caPEM []byte, admin keyPair) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: admin
  user: {client-certificate-data: %s, client-key-data: %s}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, server, b64(caPEM), b64(admin.cert), b64(admin.key))
}

// waitReady probes the API server's /readyz until it answers ok.
func waitReady(ctx context.Context, url string, caPEM []byte, admin keyPair, p *process) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.X509KeyPair(admin.cert, admin.key)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}}
	return probe(ctx, 90*time.Second, 200*time.Millisecond, "kube-apiserver /readyz", p, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return err
		}
		rsp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_ = rsp.Body.Close()
		if rsp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", rsp.Status)
		}
		return nil
	})
}
