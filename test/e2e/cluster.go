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
	"time"

	"gopkg.in/yaml.v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// config says where the suite finds what it runs.
type config struct {
	bin               string // the control plane's binaries
	repo              string // the repository, for its package/ and example/
	functionXpkg      string
	configurationXpkg string
	functionBinary    string // the function, as built into its package
	dir               string // the run directory: PKI, data, logs
}

// A cluster is a control plane on loopback: etcd, kube-apiserver and
// kube-controller-manager, Crossplane core and provider-kubernetes out of
// cluster, an OCI registry, and the function, served with mTLS.
type cluster struct {
	cfg        config
	ps         *processes
	kubeconfig string
	restConfig *rest.Config
	client     dynamic.Interface

	kubeCA, xfnCA *ca
	function      *process
	functionAddr  string
	// functionMetricsAddr is where the function serves its metrics: the
	// runtime's port 8080, moved to loopback.
	functionMetricsAddr string
	functionArgs        []string
	functionEnv         []string
	crossplane          *process
	crossplaneArgs      []string
	crossplaneEnv       []string
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

// kubectl runs kubectl against the cluster, with stdin.
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

func (c *cluster) apply(ctx context.Context, manifest string) error {
	_, err := c.kubectl(ctx, manifest, "apply", "--server-side", "--force-conflicts", "-f", "-")
	return err
}

// applyFile applies the documents of a YAML file that keep says to keep
// (all when keep is nil).
func (c *cluster) applyFile(ctx context.Context, file string, keep func(doc string) bool) error {
	b, err := os.ReadFile(file) //nolint:gosec // The suite's and the repository's manifests.
	if err != nil {
		return err
	}
	var docs []string
	for _, doc := range strings.Split(string(b), "\n---\n") {
		if keep == nil || keep(doc) {
			docs = append(docs, doc)
		}
	}
	if err := c.apply(ctx, strings.Join(docs, "\n---\n")); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// kind returns the kind of a YAML document.
// applyHelmCRD applies a CRD that a Helm chart templates, less its labels,
// whose values are templates.
func (c *cluster) applyHelmCRD(ctx context.Context, file string) error {
	b, err := os.ReadFile(file) //nolint:gosec // A CRD in the module cache.
	if err != nil {
		return err
	}
	crd, err := fromYAML(string(b))
	if err != nil {
		return err
	}
	unstructured.RemoveNestedField(crd, "metadata", "labels")
	y, err := yaml.Marshal(crd)
	if err != nil {
		return err
	}
	return c.apply(ctx, string(y))
}

func kind(doc string) string {
	for _, line := range strings.Split(doc, "\n") {
		if k, ok := strings.CutPrefix(line, "kind: "); ok {
			return strings.TrimSpace(k)
		}
	}
	return ""
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
		"--service-cluster-ip-range", "10.0.0.0/24", "--authorization-mode", "RBAC",
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
	c.restConfig = restCfg
	if c.client, err = dynamic.NewForConfig(restCfg); err != nil {
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

// waitReady polls the API server's /readyz until it answers ok.
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
	return waitFor(ctx, 90*time.Second, 200*time.Millisecond, "kube-apiserver /readyz", func() (bool, error) {
		if !p.alive() {
			return false, fmt.Errorf("%w: kube-apiserver exited:\n%s", errFinal, p.tail(30))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return false, err
		}
		rsp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		_ = rsp.Body.Close()
		return rsp.StatusCode == http.StatusOK, fmt.Errorf("/readyz: %s", rsp.Status)
	})
}
