package fn

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/crossplane/function-sdk-go/resource"
)

// The names of the composed resources in the Composition pipeline. Crossplane
// shows them to users, for example in "Unready resources: deployment".
const (
	nameDeployment resource.Name = "deployment"
	nameService    resource.Name = "service"
	nameIngress    resource.Name = "ingress"
)

// composedNames lists the composed resources in the order they are reported.
var composedNames = []resource.Name{nameDeployment, nameService, nameIngress}

// A manifest is a composed resource's object, by its composed resource name.
type manifest struct {
	name   resource.Name
	object runtime.Object
}

// manifests returns the instance's Deployment, Service and Ingress, in the
// order of composedNames.
func manifests(i *instance) []manifest {
	return []manifest{
		{name: nameDeployment, object: deployment(i)},
		{name: nameService, object: service(i)},
		{name: nameIngress, object: ingress(i)},
	}
}

// The viz-app's runtime contract.
const (
	containerName  = "viz"
	containerPort  = int32(5170)
	portName       = "5170-tcp"
	projectVolume  = "project"
	projectDir     = "/project"
	appLabel       = "app"
	annotationBody = "nginx.ingress.kubernetes.io/proxy-body-size"
	annotationCert = "cert-manager.io/cluster-issuer"
)

// appNameLabel is the Pod label, of one value for every instance, that
// names the application: the kit's NetworkPolicy selects viz Pods by it.
const (
	appNameLabel = "app.kubernetes.io/name"
	appName      = "squonk2-viz"
)

// objectMeta is the metadata of each object. The DataVisualisation owns
// them, as it owned the viz operator's: when it is deleted, Kubernetes'
// garbage collector deletes them. (A crossplane render preview has no uid,
// so no owner.)
func (i *instance) objectMeta() metav1.ObjectMeta {
	meta := metav1.ObjectMeta{
		Name:      i.objectName,
		Namespace: i.namespace,
		Labels:    map[string]string{appLabel: i.objectName},
	}
	if i.uid != "" {
		meta.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: xrAPIVersion,
			Kind:       xrKind,
			Name:       i.name,
			UID:        types.UID(i.uid),
			Controller: ptr.To(true),
		}}
	}
	return meta
}

func (i *instance) selector() map[string]string {
	return map[string]string{selectorLabel: i.objectName}
}

// deployment returns the instance's Deployment: one viz-app Pod that mounts
// the Project volume, replaced (never rolled) so that two Pods never share
// the volume, and that meets the restricted Pod Security Standard.
func deployment(i *instance) *appsv1.Deployment {
	podLabels := i.selector()
	for _, l := range i.podLabels {
		podLabels[l.key] = l.value
	}
	podLabels[appNameLabel] = appName
	pullSecrets := make([]corev1.LocalObjectReference, 0, len(i.imagePullSecrets))
	for _, name := range i.imagePullSecrets {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: name})
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: i.objectMeta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			// The start deadline: past it the Deployment says
			// ProgressDeadlineExceeded, and the DataVisualisation so.
			ProgressDeadlineSeconds: ptr.To(int32(i.startDeadline / time.Second)), //nolint:gosec // Settings.Validate bounds it to an int32 of seconds.
			Selector:                &metav1.LabelSelector{MatchLabels: i.selector()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: i.serviceAccountName,
					// The viz-app never calls the API server, and an instance
					// needs no other Service's address.
					AutomountServiceAccountToken: ptr.To(false),
					EnableServiceLinks:           ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsUser:      ptr.To(i.runAsUser),
						RunAsGroup:     ptr.To(i.runAsGroup),
						FSGroup:        ptr.To(i.fsGroup),
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					NodeSelector:      i.nodeSelector,
					PriorityClassName: i.priorityClassName,
					ImagePullSecrets:  pullSecrets,
					Containers:        []corev1.Container{container(i)},
					Volumes: []corev1.Volume{{
						Name: projectVolume,
						VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: i.projectClaimName},
						},
					}},
				},
			},
		},
	}
}

func container(i *instance) corev1.Container {
	return corev1.Container{
		Name:            containerName,
		Image:           i.image,
		ImagePullPolicy: i.imagePullPolicy,
		Ports:           []corev1.ContainerPort{{Name: portName, ContainerPort: containerPort, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "DM_PROJECT_DIR", Value: projectDir},
			{Name: "DM_PROJECT_ID", Value: i.projectID},
			{Name: "DM_INSTANCE_ID", Value: i.instanceID},
			{Name: "DM_INSTANCE_OWNER", Value: i.owner},
			{Name: "DM_BASE_PATH", Value: i.basePath()},
		},
		// Ready once the viz-app listens. It has no health endpoint, and any
		// page of it reads the Project's files, so the probe only connects:
		// every second, so that a healthy start is Ready within a second of
		// listening.
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(containerPort)}},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		},
		VolumeMounts: []corev1.VolumeMount{{Name: projectVolume, MountPath: projectDir, SubPath: i.projectID}},
		Resources:    i.resources,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// service returns the instance's ClusterIP Service in front of its Pod.
func service(i *instance) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: i.objectMeta(),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: i.selector(),
			Ports: []corev1.ServicePort{{
				Name:       portName,
				Port:       containerPort,
				TargetPort: intstr.FromInt32(containerPort),
				Protocol:   corev1.ProtocolTCP,
			}},
		},
	}
}

// ingress returns the instance's Ingress: the instance's base path on the
// ingress domain, routed to its Service, with TLS from a Secret, or from
// cert-manager when there is an issuer and no Secret.
func ingress(i *instance) *networkingv1.Ingress {
	meta := i.objectMeta()
	meta.Annotations = map[string]string{annotationBody: i.proxyBodySize}
	var tls []networkingv1.IngressTLS
	switch {
	case i.ingressTLSSecret != "":
		tls = []networkingv1.IngressTLS{{Hosts: []string{i.ingressDomain}, SecretName: i.ingressTLSSecret}}
	case i.ingressCertIssuer != "":
		meta.Annotations[annotationCert] = i.ingressCertIssuer
		tls = []networkingv1.IngressTLS{{Hosts: []string{i.ingressDomain}, SecretName: i.objectName + "-tls"}}
	}
	var class *string
	if i.ingressClass != "" {
		class = ptr.To(i.ingressClass)
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{
			IngressClassName: class,
			TLS:              tls,
			Rules: []networkingv1.IngressRule{{
				Host: i.ingressDomain,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     i.basePath(),
						PathType: ptr.To(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: i.objectName,
							Port: networkingv1.ServiceBackendPort{Number: containerPort},
						}},
					}},
				}},
			}},
		},
	}
}
