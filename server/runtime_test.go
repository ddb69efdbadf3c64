package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/rules"
	"github.com/modelium/brain/server"
)

const hfConfigs = "../testdata/hf-configs"

func readHF(t *testing.T, model, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hfConfigs, model, file))
	if err != nil {
		t.Fatalf("real config %s/%s (testdata/hf-configs): %v", model, file, err)
	}
	return b
}

func TestChooseRuntimeSeedExamples(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	for name, want := range map[string]string{"gpt2": "vllm", "resnet50": "ray", "bert-base": "vllm", "custom-model": "ray"} {
		t.Run(name, func(t *testing.T) {
			resp, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: name}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetRuntime() != want {
				t.Errorf("runtime %q, want %q (rule %s: %s)", resp.GetRuntime(), want, resp.GetRule(), resp.GetReason())
			}
			if resp.GetRule() == "" || resp.GetReason() == "" {
				t.Errorf("answer must name its rule and say why about %q: rule %q, reason %q", name, resp.GetRule(), resp.GetReason())
			}
			if resp.GetAnalysis() != nil {
				t.Errorf("a name-only request has no analysis, got %v", resp.GetAnalysis())
			}
		})
	}
}

func TestChooseRuntimeHonoursDisabledRuntimes(t *testing.T) {
	client, _, _ := startServer(t, server.Options{Enabled: &rules.Enabled{VLLM: false, Ray: true, Triton: true}})
	resp, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "gpt2"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetRuntime() != "ray" {
		t.Errorf("with vLLM off an LLM goes to Ray (the seed's rule), got %q (%s)", resp.GetRuntime(), resp.GetReason())
	}
}

func TestChooseRuntimeFromRealConfig(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	cases := []struct {
		folder, runtime, arch string
		llm                   bool
	}{
		{"meta-llama__Llama-3.1-8B", "vllm", "LlamaForCausalLM", true},
		{"mistralai__Mixtral-8x7B-v0.1", "vllm", "MixtralForCausalLM", true},
		{"microsoft__resnet-50", "ray", "ResNetForImageClassification", false},
		{"openai__whisper-base", "ray", "WhisperForConditionalGeneration", false},
	}
	for _, c := range cases {
		t.Run(c.folder, func(t *testing.T) {
			// No name: the answer can only come from the analysis of the bytes.
			resp, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{ConfigJson: readHF(t, c.folder, "config.json")}})
			if err != nil {
				t.Fatal(err)
			}
			a := resp.GetAnalysis()
			if resp.GetRuntime() != c.runtime || a.GetArchitecture() != c.arch || a.GetIsLlm() != c.llm {
				t.Errorf("got %s from %s (llm %v), want %s from %s (llm %v)", resp.GetRuntime(), a.GetArchitecture(), a.GetIsLlm(), c.runtime, c.arch, c.llm)
			}
			if a.GetParameterCount() <= 0 || a.GetMemory().GetTotalBytes() < a.GetMemory().GetWeightsBytes() {
				t.Errorf("analysis lacks an estimate: %v", a)
			}
		})
	}
}

func TestAnalyzeModelUsesShardIndex(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	resp, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{
		ConfigJson:           readHF(t, "meta-llama__Llama-2-70b-chat-hf", "config.json"),
		SafetensorsIndexJson: readHF(t, "meta-llama__Llama-2-70b-chat-hf", "model.safetensors.index.json"),
		ContextLength:        4096,
		Sequences:            2,
	})
	if err != nil {
		t.Fatal(err)
	}
	a := resp.GetAnalysis()
	if a.GetParameterCountSource() != brainv1.ParameterCountSource_PARAMETER_COUNT_SOURCE_SAFETENSORS_INDEX {
		t.Errorf("source %v, want the safetensors index", a.GetParameterCountSource())
	}
	if p := a.GetParameterCount(); p < 68e9 || p > 70e9 {
		t.Errorf("parameters %d, want about 69e9 (Llama-2-70B)", p)
	}
	if m := a.GetMemory(); m.GetContextLength() != 4096 || m.GetSequences() != 2 || m.GetKvCacheBytes() <= 0 {
		t.Errorf("memory estimate ignores the request's context and sequences: %v", m)
	}
}

func TestRuntimeBadInput(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	big := append([]byte(`{"architectures":["GPT2LMHeadModel"],"pad":"`), bytes.Repeat([]byte("x"), server.MaxConfigJSONBytes)...)
	big = append(big, `"}`...)
	cases := []struct {
		name      string
		call      func() error
		field     string
		mentioned string
	}{
		{"no name and no architecture", func() error {
			_, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Format: "onnx"}})
			return err
		}, "model", "name"},
		{"no model at all", func() error {
			_, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{})
			return err
		}, "model", "name"},
		{"malformed JSON names the position", func() error {
			_, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{ConfigJson: []byte("{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 40 96\n}")}})
			return err
		}, "model.config_json", "line 3"},
		{"config over 1 MiB", func() error {
			_, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{ConfigJson: big}})
			return err
		}, "model.config_json", "1 MiB"},
		{"name over 256 bytes", func() error {
			_, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: strings.Repeat("n", 257)}})
			return err
		}, "model.name", "256"},
		{"AnalyzeModel without config", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{})
			return err
		}, "config_json", "required"},
		{"AnalyzeModel with a broken index", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: readHF(t, "openai-community__gpt2", "config.json"), SafetensorsIndexJson: []byte(`{"metadata": [`)})
			return err
		}, "safetensors_index_json", "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fieldViolations(t, c.call())
			if desc, ok := got[c.field]; !ok || !strings.Contains(desc, c.mentioned) {
				t.Errorf("violations %v: want %s mentioning %q", got, c.field, c.mentioned)
			}
		})
	}
}

func TestGetPolicyShowsTheRuleTable(t *testing.T) {
	table, err := rules.NewTable([]rules.Rule{
		{Name: "onnx-to-triton", Runtime: "triton", Match: rules.Match{Formats: []string{"onnx"}}},
		{Name: "rest", Runtime: "ray", Match: rules.Match{Any: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, _, _ := startServer(t, server.Options{Rules: table, Enabled: &rules.Enabled{Ray: true, Triton: true}})
	resp, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := resp.GetRuntimeRules()
	if len(rs) != 2 || rs[0].GetName() != "onnx-to-triton" || rs[0].GetMatch().GetFormats()[0] != "onnx" || !rs[1].GetMatch().GetAny() {
		t.Errorf("rule table = %v", rs)
	}
	if got := strings.Join(resp.GetEnabledRuntimes(), ","); got != "ray,triton" {
		t.Errorf("enabled runtimes %q, want ray,triton", got)
	}
	choice, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "resnet", Format: "ONNX"}})
	if err != nil {
		t.Fatal(err)
	}
	if choice.GetRuntime() != "triton" || choice.GetRule() != "onnx-to-triton" {
		t.Errorf("configured table not used: %v", choice)
	}
}

func TestPanicBecomesInternalWithoutInternals(t *testing.T) {
	boom := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/GetPolicy") {
			panic("secret /etc/brain/path detail")
		}
		return h(ctx, req)
	}
	var logged safeBuffer
	client, _, _ := startServer(t, server.Options{UnaryInterceptors: []grpc.UnaryServerInterceptor{boom}, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	_, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
	// The operator's log (the configured logger) has what the client does not.
	if !strings.Contains(logged.String(), "secret /etc/brain/path detail") {
		t.Errorf("the configured logger did not get the panic: %q", logged.String())
	}
	if status.Code(err) != codes.Internal {
		t.Fatalf("panic answered %v, want INTERNAL", err)
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "goroutine") {
		t.Errorf("internals reached the client: %v", err)
	}
	// The server survived.
	if _, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "gpt2"}}); err != nil {
		t.Errorf("server dead after a panic: %v", err)
	}
}

func TestGetPolicyShowsTheUnloadPolicy(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: 10 * time.Minute, MinQPS: 0.5, AlwaysLoaded: []string{"pinned"},
		KeepAlive: map[string]rules.KeepAlive{"forever": {Forever: true}, "short": {After: 30 * time.Second}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, _, _ := startServer(t, server.Options{UnloadPolicy: policy, DecisionInterval: -1})
	resp, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.GetUnload()
	if u.GetEvictAfterIdle().AsDuration() != 10*time.Minute || u.GetMinQps() != 0.5 || u.GetAlwaysLoaded()[0] != "pinned" {
		t.Errorf("unload policy = %v", u)
	}
	ka := u.GetKeepAlive()
	if len(ka) != 2 || ka[0].GetModelName() != "forever" || !ka[0].GetForever() || ka[1].GetIdleTimeout().AsDuration() != 30*time.Second {
		t.Errorf("keep-alive = %v", ka)
	}
}
