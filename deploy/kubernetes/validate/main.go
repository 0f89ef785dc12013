// Command validate checks rendered Kubernetes manifests (kustomize build output, on stdin or in files) against the
// Kubernetes API's own Go types, offline: every object is decoded strictly into the type of its apiVersion/kind
// (k8s.io/api, and the Prometheus Operator's monitoring/v1 types), so an unknown or misspelt field, a wrong value
// type or a kind this API version does not have is an error. It is the offline stand-in for a JSON-schema
// validator such as kubeconform, whose schemas are downloaded at run time.
//
// Objects of groups without Go types here (KEDA's keda.sh: its module pulls in ~170 others) are listed as not
// validated; deploy/kubernetes_test.go checks the fields the connector depends on.
//
// It is its own Go module so that the connector's module does not depend on the Kubernetes libraries.
//
//	kustomize build deploy/kubernetes/overlays/example | go -C deploy/kubernetes/validate run .
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// types maps apiVersion/kind to a constructor of its Go type.
var types = map[string]func() any{
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PodMonitor":     func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// unchecked are groups recognised but not validated (no Go types here).
var unchecked = map[string]bool{"keda.sh/v1alpha1": true}

func main() {
	var inputs []io.Reader
	for _, f := range os.Args[1:] {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		inputs = append(inputs, bytes.NewReader(data))
	}
	if len(inputs) == 0 {
		inputs = append(inputs, os.Stdin)
	}
	failed, objects := false, 0
	for _, in := range inputs {
		dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(in), 4096)
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "invalid YAML: %v\n", err)
				os.Exit(1)
			}
			if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
				continue
			}
			objects++
			if err := check(raw); err != nil {
				fmt.Println("FAIL", err)
				failed = true
			}
		}
	}
	if objects == 0 {
		fmt.Fprintln(os.Stderr, "no objects in the input")
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

func check(raw json.RawMessage) error {
	var meta struct {
		metav1.TypeMeta
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return err
	}
	id := fmt.Sprintf("%s %s/%s", meta.Kind, meta.Metadata.Namespace, meta.Metadata.Name)
	if meta.APIVersion == "" || meta.Kind == "" || meta.Metadata.Name == "" {
		return fmt.Errorf("%s: apiVersion, kind and metadata.name are required", id)
	}
	newObj, ok := types[meta.APIVersion+"/"+meta.Kind]
	if !ok {
		if unchecked[meta.APIVersion] {
			fmt.Printf("skip %s (%s): no Go types here\n", id, meta.APIVersion)
			return nil
		}
		return fmt.Errorf("%s: %s %s is not a kind this validator knows (a typo, or a removed API version?)", id, meta.APIVersion, meta.Kind)
	}
	obj := newObj()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return fmt.Errorf("%s (%s): %w", id, meta.APIVersion, err)
	}
	fmt.Printf("ok   %s (%s)\n", id, meta.APIVersion)
	return nil
}
