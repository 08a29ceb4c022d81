package fn

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// fullInstance is an instance with every optional value set.
func fullInstance() *instance {
	return &instance{
		name: "viz-1", namespace: "dm", objectName: "viz-1", startDeadline: 10 * time.Minute,
		image: "ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0", imagePullPolicy: corev1.PullIfNotPresent,
		imagePullSecrets: []string{"svo-pullsecret"}, serviceAccountName: "dm-app",
		resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		runAsUser: 1002, runAsGroup: 100, fsGroup: 100,
		nodeSelector:      map[string]string{"informaticsmatters.com/purpose-application": "yes"},
		priorityClassName: "im-application-low",
		projectClaimName:  "dm-project", projectID: "project-1",
		podLabels:  []label{{key: "data-manager.informaticsmatters.com/instance", value: "viz-1"}},
		instanceID: "viz-1", owner: "dlister",
		ingressClass: "nginx", ingressDomain: "viz.example.org", ingressTLSSecret: "dm-tls", proxyBodySize: "1m",
	}
}

func fromYAML[T any](t *testing.T, y string) *T {
	t.Helper()
	out := new(T)
	if err := yaml.UnmarshalStrict([]byte(y), out); err != nil {
		t.Fatalf("cannot parse the expected object: %v", err)
	}
	return out
}

func TestDeployment(t *testing.T) {
	want := fromYAML[appsv1.Deployment](t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: viz-1, namespace: dm, labels: {app: viz-1}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  progressDeadlineSeconds: 600
  selector: {matchLabels: {deployment: viz-1}}
  template:
    metadata:
      labels: {deployment: viz-1, data-manager.informaticsmatters.com/instance: viz-1, app.kubernetes.io/name: squonk2-viz}
    spec:
      serviceAccountName: dm-app
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        runAsUser: 1002
        runAsGroup: 100
        fsGroup: 100
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      nodeSelector: {informaticsmatters.com/purpose-application: "yes"}
      priorityClassName: im-application-low
      imagePullSecrets: [{name: svo-pullsecret}]
      containers:
      - name: viz
        image: ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0
        imagePullPolicy: IfNotPresent
        ports: [{name: 5170-tcp, containerPort: 5170, protocol: TCP}]
        env:
        - {name: DM_PROJECT_DIR, value: /project}
        - {name: DM_PROJECT_ID, value: project-1}
        - {name: DM_INSTANCE_ID, value: viz-1}
        - {name: DM_INSTANCE_OWNER, value: dlister}
        - {name: DM_BASE_PATH, value: /viz-1}
        readinessProbe:
          tcpSocket: {port: 5170}
          periodSeconds: 1
          timeoutSeconds: 1
          successThreshold: 1
          failureThreshold: 3
        volumeMounts: [{name: project, mountPath: /project, subPath: project-1}]
        resources:
          requests: {cpu: 10m, memory: 256Mi}
          limits: {cpu: "1", memory: 1Gi}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
      volumes:
      - name: project
        persistentVolumeClaim: {claimName: dm-project}
`)
	if diff := cmp.Diff(want, deployment(fullInstance())); diff != "" {
		t.Errorf("deployment(...): -want, +got:\n%s", diff)
	}
}

// TestDeploymentIsRestricted evaluates the Pod with the Kubernetes Pod
// Security Admission checks at the restricted level.
func TestDeploymentIsRestricted(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := deployment(fullInstance())
	for _, r := range evaluator.EvaluatePod(api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec) {
		if !r.Allowed {
			t.Errorf("deployment(...): the Pod breaks the restricted Pod Security Standard: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
}

// serviceOfFullInstance is the Service of fullInstance, as YAML.
const serviceOfFullInstance = `
apiVersion: v1
kind: Service
metadata: {name: viz-1, namespace: dm, labels: {app: viz-1}}
spec:
  type: ClusterIP
  selector: {deployment: viz-1}
  ports: [{name: 5170-tcp, port: 5170, targetPort: 5170, protocol: TCP}]
`

func TestService(t *testing.T) {
	want := fromYAML[corev1.Service](t, serviceOfFullInstance)
	if diff := cmp.Diff(want, service(fullInstance())); diff != "" {
		t.Errorf("service(...): -want, +got:\n%s", diff)
	}
}

func TestIngress(t *testing.T) {
	cases := map[string]struct {
		reason string
		change func(i *instance)
		want   string
	}{
		"TLSSecret": {
			reason: "With a TLS secret, the Ingress terminates TLS with it.",
			change: func(*instance) {},
			want: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: viz-1
  namespace: dm
  labels: {app: viz-1}
  annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1m}
spec:
  ingressClassName: nginx
  tls: [{hosts: [viz.example.org], secretName: dm-tls}]
  rules:
  - host: viz.example.org
    http:
      paths:
      - path: /viz-1
        pathType: Prefix
        backend: {service: {name: viz-1, port: {number: 5170}}}
`,
		},
		"CertManager": {
			reason: "Without a TLS secret but with an issuer, cert-manager is asked for the certificate of <name>-tls.",
			change: func(i *instance) { i.ingressTLSSecret, i.ingressCertIssuer = "", "letsencrypt" },
			want: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: viz-1
  namespace: dm
  labels: {app: viz-1}
  annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1m, cert-manager.io/cluster-issuer: letsencrypt}
spec:
  ingressClassName: nginx
  tls: [{hosts: [viz.example.org], secretName: viz-1-tls}]
  rules:
  - host: viz.example.org
    http:
      paths:
      - path: /viz-1
        pathType: Prefix
        backend: {service: {name: viz-1, port: {number: 5170}}}
`,
		},
		"DerivedNameKeepsThePath": {
			reason: "When the objects need a derived name, the path and URL keep the XR's name and the backend follows the Service.",
			change: func(i *instance) {
				i.name, i.objectName, i.ingressTLSSecret, i.ingressClass = "viz.1", "viz-1-abc", "", ""
			},
			want: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: viz-1-abc
  namespace: dm
  labels: {app: viz-1-abc}
  annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1m}
spec:
  rules:
  - host: viz.example.org
    http:
      paths:
      - path: /viz.1
        pathType: Prefix
        backend: {service: {name: viz-1-abc, port: {number: 5170}}}
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			i := fullInstance()
			tc.change(i)
			if diff := cmp.Diff(fromYAML[networkingv1.Ingress](t, tc.want), ingress(i)); diff != "" {
				t.Errorf("%s\ningress(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
