package fn

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The viz-app's runtime contract.
const (
	ContainerName  = "viz"
	ContainerPort  = int32(5170)
	PortName       = "5170-tcp"
	ProjectVolume  = "project"
	ProjectDir     = "/project"
	appLabel       = "app"
	annotationBody = "nginx.ingress.kubernetes.io/proxy-body-size"
	annotationCert = "cert-manager.io/cluster-issuer"
)

func (i *Instance) objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      i.ObjectName,
		Namespace: i.Namespace,
		Labels:    map[string]string{appLabel: i.ObjectName},
	}
}

func (i *Instance) selector() map[string]string {
	return map[string]string{selectorLabel: i.ObjectName}
}

// Deployment returns the instance's Deployment: one viz-app Pod that mounts
// the Project volume, replaced (never rolled) so that two Pods never share
// the volume, and that meets the restricted Pod Security Standard.
func Deployment(i *Instance) *appsv1.Deployment {
	podLabels := i.selector()
	for _, l := range i.PodLabels {
		podLabels[l.Key] = l.Value
	}
	pullSecrets := make([]corev1.LocalObjectReference, 0, len(i.ImagePullSecrets))
	for _, name := range i.ImagePullSecrets {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: name})
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: i.objectMeta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Selector: &metav1.LabelSelector{MatchLabels: i.selector()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: i.ServiceAccountName,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsUser:      ptr.To(i.RunAsUser),
						RunAsGroup:     ptr.To(i.RunAsGroup),
						FSGroup:        ptr.To(i.FSGroup),
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					NodeSelector:      i.NodeSelector,
					PriorityClassName: i.PriorityClassName,
					ImagePullSecrets:  pullSecrets,
					Containers:        []corev1.Container{container(i)},
					Volumes: []corev1.Volume{{
						Name: ProjectVolume,
						VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: i.ProjectClaimName},
						},
					}},
				},
			},
		},
	}
}

func container(i *Instance) corev1.Container {
	return corev1.Container{
		Name:            ContainerName,
		Image:           i.Image,
		ImagePullPolicy: i.ImagePullPolicy,
		Ports:           []corev1.ContainerPort{{Name: PortName, ContainerPort: ContainerPort, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "DM_PROJECT_DIR", Value: ProjectDir},
			{Name: "DM_PROJECT_ID", Value: i.ProjectID},
			{Name: "DM_INSTANCE_ID", Value: i.InstanceID},
			{Name: "DM_INSTANCE_OWNER", Value: i.Owner},
			{Name: "DM_BASE_PATH", Value: i.BasePath()},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: ProjectVolume, MountPath: ProjectDir, SubPath: i.ProjectID}},
		Resources:    i.Resources,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// Service returns the instance's ClusterIP Service in front of its Pod.
func Service(i *Instance) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: i.objectMeta(),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: i.selector(),
			Ports: []corev1.ServicePort{{
				Name:       PortName,
				Port:       ContainerPort,
				TargetPort: intstr.FromInt32(ContainerPort),
				Protocol:   corev1.ProtocolTCP,
			}},
		},
	}
}

// Ingress returns the instance's Ingress: the instance's base path on the
// ingress domain, routed to its Service, with TLS from a Secret, or from
// cert-manager when there is an issuer and no Secret.
func Ingress(i *Instance) *networkingv1.Ingress {
	meta := i.objectMeta()
	meta.Annotations = map[string]string{annotationBody: i.ProxyBodySize}
	var tls []networkingv1.IngressTLS
	switch {
	case i.IngressTLSSecret != "":
		tls = []networkingv1.IngressTLS{{Hosts: []string{i.IngressDomain}, SecretName: i.IngressTLSSecret}}
	case i.IngressCertIssuer != "":
		meta.Annotations[annotationCert] = i.IngressCertIssuer
		tls = []networkingv1.IngressTLS{{Hosts: []string{i.IngressDomain}, SecretName: i.ObjectName + "-tls"}}
	}
	var class *string
	if i.IngressClass != "" {
		class = ptr.To(i.IngressClass)
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{
			IngressClassName: class,
			TLS:              tls,
			Rules: []networkingv1.IngressRule{{
				Host: i.IngressDomain,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     i.BasePath(),
						PathType: ptr.To(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: i.ObjectName,
							Port: networkingv1.ServiceBackendPort{Number: ContainerPort},
						}},
					}},
				}},
			}},
		},
	}
}
