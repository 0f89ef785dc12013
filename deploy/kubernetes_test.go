package deploy

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
)

// Every rendered object decodes strictly into the Kubernetes API's Go type of its apiVersion/kind
// (deploy/kubernetes/validate): no unknown or misspelt field, no wrong value type, no kind the version lacks.
func TestKubernetesSchema(t *testing.T) {
	validate := tool(t, "capi-k8s-validate", installValidator)
	for _, dir := range overlays(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cmd := exec.Command(validate)
			cmd.Stdin = bytes.NewReader(kustomizeRender(t, dir))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("capi-k8s-validate: %v\n%s", err, out)
			}
			for _, kind := range []string{"StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap", "ServiceMonitor"} {
				if !bytes.Contains(out, []byte("ok   "+kind+" ")) {
					t.Errorf("%s not validated:\n%s", kind, out)
				}
			}
			t.Logf("%s", out)
		})
	}
}

// The rendered installation runs: the ConfigMap's file and the container's environment, with the downward API and
// the Secret resolved the way the kubelet does, pass the connector's own configuration loader and validation, and
// the pieces that must agree (probes, ports, service, monitor, PDB, autoscaler, shutdown timing) agree.
func TestKubernetesManifests(t *testing.T) {
	for _, dir := range overlays(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs := kustomizeBuild(t, dir)
			sts := only(t, objs, "StatefulSet")
			spec := decodeSpec[statefulSetSpec](t, sts)
			pod := spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			podLabels := spec.Template.Metadata.Labels
			if !subset(spec.Selector.MatchLabels, podLabels) {
				t.Errorf("StatefulSet selector %v does not match its pod labels %v", spec.Selector.MatchLabels, podLabels)
			}

			cfg, podName := loadPodConfig(t, objs, sts, pod, c)

			// Static membership: the member id is the pod name, from the downward API.
			if cfg.Kafka.GroupInstanceID != podName {
				t.Errorf("kafka.group_instance_id = %q, want the pod name %q (CAPI_KAFKA_GROUP_INSTANCE_ID from metadata.name)",
					cfg.Kafka.GroupInstanceID, podName)
			}
			// The token came from the Secret file, not from the ConfigMap or a literal.
			for _, d := range cfg.Destinations {
				if d.AccessToken != secretToken {
					t.Errorf("destination %s: access token not read from the mounted Secret", d.Name)
				}
			}

			// Shutdown: the kubelet's SIGKILL comes after the drain.
			if pod.TerminationGracePeriodSeconds == nil {
				t.Fatal("no terminationGracePeriodSeconds: the default 30 s is not longer than shutdown_timeout")
			}
			grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
			if grace <= cfg.ShutdownTimeout+5*time.Second {
				t.Errorf("terminationGracePeriodSeconds %s must exceed shutdown_timeout %s (plus time for the final commit)", grace, cfg.ShutdownTimeout)
			}

			// Probes on the metrics port, which is the port the connector listens on.
			_, metricsPort, err := net.SplitHostPort(cfg.MetricsAddr)
			if err != nil {
				t.Fatalf("metrics_addr %q: %v", cfg.MetricsAddr, err)
			}
			portName := ""
			for _, p := range c.Ports {
				if strconv.Itoa(p.ContainerPort) == metricsPort {
					portName = p.Name
				}
			}
			if portName == "" {
				t.Fatalf("no container port %s (metrics_addr %q) in %+v", metricsPort, cfg.MetricsAddr, c.Ports)
			}
			for _, pc := range []struct {
				name string
				p    *probe
				path string
			}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
				if pc.p == nil || pc.p.HTTPGet == nil {
					t.Errorf("%s probe: want httpGet %s", pc.name, pc.path)
					continue
				}
				if pc.p.HTTPGet.Path != pc.path {
					t.Errorf("%s probe path %q, want %s", pc.name, pc.p.HTTPGet.Path, pc.path)
				}
				if v := pc.p.HTTPGet.Port.Value; v != portName && v != metricsPort {
					t.Errorf("%s probe port %q, want %s (%s)", pc.name, v, portName, metricsPort)
				}
			}

			// Hardening.
			if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
				pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
				t.Error("pod must run as a non-root user (runAsNonRoot, runAsUser ≠ 0)")
			}
			sc := c.SecurityContext
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("container root filesystem must be read-only")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("allowPrivilegeEscalation must be false")
			}
			if !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Error("capabilities must drop ALL")
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the connector calls no Kubernetes API: automountServiceAccountToken must be false")
			}

			// Memory sized from the measured backlog peak (212–224 MiB RSS at max_in_flight_records 20000), with
			// GOMEMLIMIT below the limit.
			req, lim := quantity(t, c.Resources.Requests["memory"]), quantity(t, c.Resources.Limits["memory"])
			const measuredPeak = 224 << 20
			if cfg.Kafka.MaxInFlightRecords > 20000 {
				t.Errorf("max_in_flight_records %d is above the measured 20000: re-measure the memory", cfg.Kafka.MaxInFlightRecords)
			}
			if req < measuredPeak || lim <= req {
				t.Errorf("memory request %d / limit %d: want request ≥ the measured peak %d and limit above it", req, lim, measuredPeak)
			}
			if c.Resources.Requests["cpu"] == "" {
				t.Error("no cpu request")
			}
			if gml := envValue(c, "GOMEMLIMIT"); gml == "" || quantity(t, strings.TrimSuffix(gml, "B")) >= lim {
				t.Errorf("GOMEMLIMIT %q must be set below the memory limit %d", gml, lim)
			}

			// Service: headless governing service of the StatefulSet, keeps not-ready pods scrapeable, targets the
			// metrics port.
			svcObj, ok := byKindName(objs, "Service", spec.ServiceName)
			if !ok {
				t.Fatalf("serviceName %q: no such Service", spec.ServiceName)
			}
			svc := decodeSpec[serviceSpec](t, svcObj)
			if svc.ClusterIP != "None" || !svc.PublishNotReadyAddresses {
				t.Errorf("Service %s: want headless (clusterIP None) with publishNotReadyAddresses (not-ready pods must stay scrapeable)", svcObj.Metadata.Name)
			}
			if !subset(svc.Selector, podLabels) {
				t.Errorf("Service selector %v does not match the pod labels %v", svc.Selector, podLabels)
			}
			svcPort := ""
			for _, p := range svc.Ports {
				if tp := p.TargetPort.Value; tp == portName || tp == metricsPort {
					svcPort = p.Name
				}
			}
			if svcPort == "" {
				t.Errorf("Service %s has no port targeting %s", svcObj.Metadata.Name, portName)
			}

			pdbObj := only(t, objs, "PodDisruptionBudget")
			pdb := decodeSpec[pdbSpec](t, pdbObj)
			if !subset(pdb.Selector.MatchLabels, podLabels) {
				t.Errorf("PodDisruptionBudget selector %v does not match the pod labels", pdb.Selector.MatchLabels)
			}
			if pdb.MaxUnavailable.Value == "" && pdb.MinAvailable.Value == "" {
				t.Error("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
			}

			for _, o := range objs {
				switch o.Kind {
				case "ServiceMonitor":
					sm := decodeSpec[serviceMonitorSpec](t, o)
					if !subset(sm.Selector.MatchLabels, svcObj.Metadata.Labels) {
						t.Errorf("ServiceMonitor selector %v does not select Service labels %v", sm.Selector.MatchLabels, svcObj.Metadata.Labels)
					}
					if len(sm.Endpoints) == 0 || sm.Endpoints[0].Port != svcPort || sm.Endpoints[0].Path != "/metrics" {
						t.Errorf("ServiceMonitor endpoints %+v: want port %q path /metrics", sm.Endpoints, svcPort)
					}
				case "ScaledObject":
					checkScaledObject(t, o, sts, cfg)
				}
			}
		})
	}
}

// Installations side by side in one namespace (one per independent group of pixels) stay apart: no selector of
// one (StatefulSet, Service, PodDisruptionBudget, ServiceMonitor) matches the other's pods or Service, and no two
// objects of a kind share a name.
func TestKubernetesOverlaysIndependent(t *testing.T) {
	type install struct {
		dir       string
		objs      []k8sObject
		podLabels map[string]string
		svcLabels map[string]string
	}
	var all []install
	for _, dir := range overlays(t) {
		objs := kustomizeBuild(t, dir)
		sts := decodeSpec[statefulSetSpec](t, only(t, objs, "StatefulSet"))
		svc, _ := byKindName(objs, "Service", sts.ServiceName)
		all = append(all, install{dir, objs, sts.Template.Metadata.Labels, svc.Metadata.Labels})
	}
	if len(all) < 2 {
		t.Skip("one overlay")
	}
	// The alert rules group by job and cover every installation: one PrometheusRule per namespace, or every
	// alert fires once per copy.
	rulesIn := map[string][]string{}
	for _, in := range all {
		for _, o := range in.objs {
			if o.Kind == "PrometheusRule" {
				rulesIn[o.Metadata.Namespace] = append(rulesIn[o.Metadata.Namespace], in.dir)
			}
		}
	}
	for ns, dirs := range rulesIn {
		if len(dirs) > 1 {
			t.Errorf("namespace %s gets the alert rules from %q: include components/alerts once", ns, dirs)
		}
	}
	for _, a := range all {
		for _, b := range all {
			if a.dir == b.dir {
				continue
			}
			for _, o := range a.objs {
				var sel, target map[string]string
				switch o.Kind {
				case "StatefulSet":
					sel, target = decodeSpec[statefulSetSpec](t, o).Selector.MatchLabels, b.podLabels
				case "Service":
					sel, target = decodeSpec[serviceSpec](t, o).Selector, b.podLabels
				case "PodDisruptionBudget":
					sel, target = decodeSpec[pdbSpec](t, o).Selector.MatchLabels, b.podLabels
				case "ServiceMonitor":
					sel, target = decodeSpec[serviceMonitorSpec](t, o).Selector.MatchLabels, b.svcLabels
				default:
					continue
				}
				if subset(sel, target) {
					t.Errorf("%s: %s %s selects %v of %s", a.dir, o.Kind, o.Metadata.Name, target, b.dir)
				}
				if other, clash := byKindName(b.objs, o.Kind, o.Metadata.Name); clash && other.Metadata.Namespace == o.Metadata.Namespace {
					t.Errorf("%s and %s both define %s %s", a.dir, b.dir, o.Kind, o.Metadata.Name)
				}
			}
		}
	}
}

func checkScaledObject(t *testing.T, o k8sObject, sts k8sObject, cfg config.Config) {
	t.Helper()
	so := decodeSpec[scaledObjectSpec](t, o)
	if so.ScaleTargetRef.Kind != "StatefulSet" || so.ScaleTargetRef.Name != sts.Metadata.Name {
		t.Errorf("ScaledObject targets %s %q, want StatefulSet %q", so.ScaleTargetRef.Kind, so.ScaleTargetRef.Name, sts.Metadata.Name)
	}
	parts, err := strconv.Atoi(o.Metadata.Annotations["capi-connector/source-partitions"])
	if err != nil {
		t.Fatalf("ScaledObject needs the capi-connector/source-partitions annotation (the source partition count): %v", err)
	}
	if so.MaxReplicaCount < 1 || so.MaxReplicaCount > parts {
		t.Errorf("maxReplicaCount %d: want 1..%d (the source partitions; more replicas consume nothing)", so.MaxReplicaCount, parts)
	}
	if so.MinReplicaCount == nil || *so.MinReplicaCount < 1 {
		t.Error("minReplicaCount must be ≥ 1: with no pod nothing exports the lag and readiness the alerts read")
	}
	if len(so.Triggers) != 1 || so.Triggers[0].Type != "kafka" {
		t.Fatalf("want one kafka trigger, got %+v", so.Triggers)
	}
	md := so.Triggers[0].Metadata
	if md["consumerGroup"] != cfg.Kafka.Group {
		t.Errorf("trigger consumerGroup %q, the connector's group is %q", md["consumerGroup"], cfg.Kafka.Group)
	}
	if !slices.Contains(cfg.Kafka.Topics, md["topic"]) {
		t.Errorf("trigger topic %q is not a source topic %q", md["topic"], cfg.Kafka.Topics)
	}
	if got := strings.Split(md["bootstrapServers"], ","); !slices.Equal(got, cfg.Kafka.Brokers) {
		t.Errorf("trigger bootstrapServers %q, the connector's brokers are %q", got, cfg.Kafka.Brokers)
	}
	if md["allowIdleConsumers"] == "true" {
		t.Error("allowIdleConsumers lets KEDA scale past the partition count")
	}
	if n, err := strconv.Atoi(md["lagThreshold"]); err != nil || n <= 0 {
		t.Errorf("lagThreshold %q: want a positive number", md["lagThreshold"])
	}
}

// secretToken stands for the content of the Secret: the test writes it where the pod would read it.
const secretToken = "EAAB-test-token-from-secret"

// loadPodConfig resolves the container's configuration as the kubelet and the binary would: the ConfigMap mounted
// at its mount path, the Secret's key as a file, CAPI_* variables with the downward API's pod name. It returns the
// loaded, validated configuration and the pod name used.
func loadPodConfig(t *testing.T, objs []k8sObject, sts k8sObject, pod podSpec, c container) (config.Config, string) {
	t.Helper()
	podName := sts.Metadata.Name + "-0"
	root := t.TempDir()
	// Mounts → files under root.
	mountDir := map[string]string{} // mount path → local dir
	var secretMounts []string
	for _, m := range c.VolumeMounts {
		local := filepath.Join(root, strings.ReplaceAll(strings.Trim(m.MountPath, "/"), "/", "_"))
		if err := os.MkdirAll(local, 0o700); err != nil {
			t.Fatal(err)
		}
		mountDir[m.MountPath] = local
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			switch {
			case v.ConfigMap != nil:
				cm, ok := byKindName(objs, "ConfigMap", v.ConfigMap.Name)
				if !ok {
					t.Fatalf("volume %s: ConfigMap %q is not in the build", v.Name, v.ConfigMap.Name)
				}
				for k, data := range cm.Data {
					writeFile(t, filepath.Join(local, k), data)
				}
			case v.Secret != nil:
				if v.Secret.SecretName == "" {
					t.Fatalf("volume %s: no secretName", v.Name)
				}
				// The Secret is created out of band: its files are written where a *_FILE variable names them.
				secretMounts = append(secretMounts, m.MountPath)
			}
		}
	}
	// Paths inside the container → local paths.
	localPath := func(p string) string {
		for mp, local := range mountDir {
			if rest, ok := strings.CutPrefix(p, mp+"/"); ok {
				return filepath.Join(local, filepath.FromSlash(rest))
			}
		}
		t.Errorf("%s is not under any volume mount of the container", p)
		return p
	}
	// Arguments: run --config FILE.
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("container args %q: want run --config FILE", c.Args)
	}
	cfgPath := ""
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			cfgPath = c.Args[i+1]
		}
	}
	if cfgPath == "" {
		t.Fatalf("container args %q: no --config", c.Args)
	}
	localCfg := localPath(cfgPath)
	if _, err := os.Stat(localCfg); err != nil {
		t.Fatalf("--config %s: the ConfigMap mounted there has no such key: %v", cfgPath, err)
	}
	// Environment.
	env := map[string]string{}
	for _, e := range c.Env {
		if !strings.HasPrefix(e.Name, config.EnvPrefix) {
			continue
		}
		if !config.IsKnownEnv(e.Name) {
			t.Errorf("env %s is not a variable the connector reads", e.Name)
		}
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			if e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
				t.Errorf("env %s from %s: only metadata.name is resolved by this test", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = podName
		case e.ValueFrom != nil:
			t.Errorf("env %s: valueFrom other than fieldRef (secrets belong in files)", e.Name)
		case strings.HasSuffix(e.Name, "_FILE"):
			if !slices.ContainsFunc(secretMounts, func(mp string) bool { return path.Dir(e.Value) == mp }) {
				t.Errorf("env %s = %q: not a file of a mounted Secret", e.Name, e.Value)
			}
			env[e.Name] = localPath(e.Value)
			writeFile(t, env[e.Name], secretToken+"\n")
		default:
			env[e.Name] = e.Value
		}
	}
	if _, ok := env["CAPI_KAFKA_GROUP_INSTANCE_ID"]; !ok {
		t.Error("the container does not set CAPI_KAFKA_GROUP_INSTANCE_ID")
	}
	for k := range env {
		if strings.HasSuffix(k, "ACCESS_TOKEN") || strings.HasSuffix(k, "APP_SECRET") {
			t.Errorf("%s set in the manifest: secrets belong in a Secret file (%s_FILE)", k, k)
		}
	}
	cfg, err := config.Load(localCfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the connector's loader rejects the pod's configuration: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the connector's validation rejects the pod's configuration: %v", err)
	}
	return cfg, podName
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
