from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
MODEL_STATE_FAILED: ModelState
MODEL_STATE_LOADED: ModelState
MODEL_STATE_LOADING: ModelState
MODEL_STATE_UNLOADED: ModelState
MODEL_STATE_UNLOADING: ModelState
MODEL_STATE_UNSPECIFIED: ModelState
PARAMETER_COUNT_SOURCE_ESTIMATED: ParameterCountSource
PARAMETER_COUNT_SOURCE_SAFETENSORS_INDEX: ParameterCountSource
PARAMETER_COUNT_SOURCE_UNSPECIFIED: ParameterCountSource
PLACEMENT_STRATEGY_BEST_FIT: PlacementStrategy
PLACEMENT_STRATEGY_MOST_FREE: PlacementStrategy
PLACEMENT_STRATEGY_UNSPECIFIED: PlacementStrategy
RECOMMENDATION_KIND_LOAD: RecommendationKind
RECOMMENDATION_KIND_UNLOAD: RecommendationKind
RECOMMENDATION_KIND_UNSPECIFIED: RecommendationKind
WITHDRAWAL_CAUSE_MODEL_LOADED: WithdrawalCause
WITHDRAWAL_CAUSE_MODEL_UNLOADED: WithdrawalCause
WITHDRAWAL_CAUSE_PINNED: WithdrawalCause
WITHDRAWAL_CAUSE_POLICY_CHANGED: WithdrawalCause
WITHDRAWAL_CAUSE_TRAFFIC_RESUMED: WithdrawalCause
WITHDRAWAL_CAUSE_UNSPECIFIED: WithdrawalCause

class AnalyzeModelRequest(_message.Message):
    __slots__ = ["config_json", "context_length", "safetensors_index_json", "sequences"]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SAFETENSORS_INDEX_JSON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    config_json: bytes
    context_length: int
    safetensors_index_json: bytes
    sequences: int
    def __init__(self, config_json: _Optional[bytes] = ..., safetensors_index_json: _Optional[bytes] = ..., context_length: _Optional[int] = ..., sequences: _Optional[int] = ...) -> None: ...

class AnalyzeModelResponse(_message.Message):
    __slots__ = ["analysis", "gpu_need"]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    GPU_NEED_FIELD_NUMBER: _ClassVar[int]
    analysis: ModelAnalysis
    gpu_need: GPUNeed
    def __init__(self, analysis: _Optional[_Union[ModelAnalysis, _Mapping]] = ..., gpu_need: _Optional[_Union[GPUNeed, _Mapping]] = ...) -> None: ...

class ChooseGPURequest(_message.Message):
    __slots__ = ["allow_eviction", "exclude_gpu_uuids", "gateway_id", "gpu_count", "model_name", "required_bytes", "reservation_ttl", "reserve", "strategy"]
    ALLOW_EVICTION_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_GPU_UUIDS_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_BYTES_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TTL_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    allow_eviction: bool
    exclude_gpu_uuids: _containers.RepeatedScalarFieldContainer[str]
    gateway_id: str
    gpu_count: int
    model_name: str
    required_bytes: int
    reservation_ttl: _duration_pb2.Duration
    reserve: bool
    strategy: PlacementStrategy
    def __init__(self, model_name: _Optional[str] = ..., required_bytes: _Optional[int] = ..., strategy: _Optional[_Union[PlacementStrategy, str]] = ..., exclude_gpu_uuids: _Optional[_Iterable[str]] = ..., reserve: bool = ..., reservation_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., gateway_id: _Optional[str] = ..., gpu_count: _Optional[int] = ..., allow_eviction: bool = ...) -> None: ...

class ChooseGPUResponse(_message.Message):
    __slots__ = ["evictions", "free_bytes_after", "gpu", "gpus", "reason", "reservation_expires_at", "reservation_id", "strategy"]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_AFTER_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    evictions: _containers.RepeatedCompositeFieldContainer[Eviction]
    free_bytes_after: int
    gpu: GPU
    gpus: _containers.RepeatedCompositeFieldContainer[GPU]
    reason: str
    reservation_expires_at: _timestamp_pb2.Timestamp
    reservation_id: str
    strategy: str
    def __init__(self, gpu: _Optional[_Union[GPU, _Mapping]] = ..., free_bytes_after: _Optional[int] = ..., reservation_id: _Optional[str] = ..., reservation_expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., strategy: _Optional[str] = ..., reason: _Optional[str] = ..., gpus: _Optional[_Iterable[_Union[GPU, _Mapping]]] = ..., evictions: _Optional[_Iterable[_Union[Eviction, _Mapping]]] = ...) -> None: ...

class ChooseRuntimeRequest(_message.Message):
    __slots__ = ["model"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelSpec
    def __init__(self, model: _Optional[_Union[ModelSpec, _Mapping]] = ...) -> None: ...

class ChooseRuntimeResponse(_message.Message):
    __slots__ = ["analysis", "reason", "rule", "runtime"]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    analysis: ModelAnalysis
    reason: str
    rule: str
    runtime: str
    def __init__(self, runtime: _Optional[str] = ..., rule: _Optional[str] = ..., reason: _Optional[str] = ..., analysis: _Optional[_Union[ModelAnalysis, _Mapping]] = ...) -> None: ...

class Eviction(_message.Message):
    __slots__ = ["gateway_id", "gpu_uuid", "memory_bytes", "model_name", "reason"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    gpu_uuid: str
    memory_bytes: int
    model_name: str
    reason: str
    def __init__(self, model_name: _Optional[str] = ..., gateway_id: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., memory_bytes: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GPU(_message.Message):
    __slots__ = ["free_bytes", "index", "mig_enabled", "name", "reserved_bytes", "total_bytes", "used_bytes", "utilization_percent", "uuid"]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MIG_ENABLED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESERVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    free_bytes: int
    index: int
    mig_enabled: bool
    name: str
    reserved_bytes: int
    total_bytes: int
    used_bytes: int
    utilization_percent: int
    uuid: str
    def __init__(self, index: _Optional[int] = ..., uuid: _Optional[str] = ..., name: _Optional[str] = ..., total_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., used_bytes: _Optional[int] = ..., reserved_bytes: _Optional[int] = ..., utilization_percent: _Optional[int] = ..., mig_enabled: bool = ...) -> None: ...

class GPUNeed(_message.Message):
    __slots__ = ["bytes_per_gpu", "gpu_count", "gpu_total_bytes", "headroom_bytes", "reason"]
    BYTES_PER_GPU_FIELD_NUMBER: _ClassVar[int]
    GPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    GPU_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    HEADROOM_BYTES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    bytes_per_gpu: int
    gpu_count: int
    gpu_total_bytes: int
    headroom_bytes: int
    reason: str
    def __init__(self, gpu_count: _Optional[int] = ..., gpu_total_bytes: _Optional[int] = ..., bytes_per_gpu: _Optional[int] = ..., headroom_bytes: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GPUPolicy(_message.Message):
    __slots__ = ["backend", "headroom_bytes", "reservation_ttl", "strategy"]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    HEADROOM_BYTES_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TTL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    backend: str
    headroom_bytes: int
    reservation_ttl: _duration_pb2.Duration
    strategy: str
    def __init__(self, backend: _Optional[str] = ..., strategy: _Optional[str] = ..., headroom_bytes: _Optional[int] = ..., reservation_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GPURefusal(_message.Message):
    __slots__ = ["available_bytes", "index", "reason", "uuid"]
    AVAILABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    available_bytes: int
    index: int
    reason: str
    uuid: str
    def __init__(self, index: _Optional[int] = ..., uuid: _Optional[str] = ..., reason: _Optional[str] = ..., available_bytes: _Optional[int] = ...) -> None: ...

class GatewayModel(_message.Message):
    __slots__ = ["gpu_uuid", "memory_bytes", "model_name", "runtime", "state"]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    gpu_uuid: str
    memory_bytes: int
    model_name: str
    runtime: str
    state: ModelState
    def __init__(self, model_name: _Optional[str] = ..., runtime: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ["enabled_runtimes", "gpu", "keep_alive_policy", "runtime_rules", "unload"]
    ENABLED_RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_POLICY_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_RULES_FIELD_NUMBER: _ClassVar[int]
    UNLOAD_FIELD_NUMBER: _ClassVar[int]
    enabled_runtimes: _containers.RepeatedScalarFieldContainer[str]
    gpu: GPUPolicy
    keep_alive_policy: str
    runtime_rules: _containers.RepeatedCompositeFieldContainer[RuntimeRule]
    unload: UnloadPolicy
    def __init__(self, runtime_rules: _Optional[_Iterable[_Union[RuntimeRule, _Mapping]]] = ..., enabled_runtimes: _Optional[_Iterable[str]] = ..., gpu: _Optional[_Union[GPUPolicy, _Mapping]] = ..., unload: _Optional[_Union[UnloadPolicy, _Mapping]] = ..., keep_alive_policy: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class KeepAlive(_message.Message):
    __slots__ = ["forever", "idle_timeout", "model_name"]
    FOREVER_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    forever: bool
    idle_timeout: _duration_pb2.Duration
    model_name: str
    def __init__(self, model_name: _Optional[str] = ..., forever: bool = ..., idle_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListGPUsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListGPUsResponse(_message.Message):
    __slots__ = ["backend", "error", "gpus", "snapshot_time", "stale"]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    backend: str
    error: str
    gpus: _containers.RepeatedCompositeFieldContainer[GPU]
    snapshot_time: _timestamp_pb2.Timestamp
    stale: bool
    def __init__(self, gpus: _Optional[_Iterable[_Union[GPU, _Mapping]]] = ..., backend: _Optional[str] = ..., snapshot_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., stale: bool = ..., error: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ["gateway_id"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    def __init__(self, gateway_id: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ["models"]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelStatus]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelStatus, _Mapping]]] = ...) -> None: ...

class LoadRecommendation(_message.Message):
    __slots__ = ["confidence", "expected_next_request_time", "gateway_id", "gpu_uuid", "idle_seconds", "memory_bytes", "model_name", "reason", "recommended_time", "rule", "runtime"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_NEXT_REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_TIME_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    expected_next_request_time: _timestamp_pb2.Timestamp
    gateway_id: str
    gpu_uuid: str
    idle_seconds: float
    memory_bytes: int
    model_name: str
    reason: str
    recommended_time: _timestamp_pb2.Timestamp
    rule: str
    runtime: str
    def __init__(self, model_name: _Optional[str] = ..., gateway_id: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., runtime: _Optional[str] = ..., rule: _Optional[str] = ..., reason: _Optional[str] = ..., expected_next_request_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., confidence: _Optional[float] = ..., memory_bytes: _Optional[int] = ..., idle_seconds: _Optional[float] = ..., recommended_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MemoryEstimate(_message.Message):
    __slots__ = ["context_length", "kv_cache_bytes", "overhead_bytes", "sequences", "total_bytes", "weights_bytes"]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    KV_CACHE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OVERHEAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_BYTES_FIELD_NUMBER: _ClassVar[int]
    context_length: int
    kv_cache_bytes: int
    overhead_bytes: int
    sequences: int
    total_bytes: int
    weights_bytes: int
    def __init__(self, weights_bytes: _Optional[int] = ..., kv_cache_bytes: _Optional[int] = ..., overhead_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ..., context_length: _Optional[int] = ..., sequences: _Optional[int] = ...) -> None: ...

class ModelAnalysis(_message.Message):
    __slots__ = ["architecture", "bytes_per_parameter", "dtype", "head_dim", "hidden_size", "is_llm", "max_position_embeddings", "memory", "missing_fields", "model_type", "num_attention_heads", "num_experts", "num_experts_per_token", "num_key_value_heads", "num_layers", "num_shared_experts", "parameter_count", "parameter_count_source", "partial", "tie_word_embeddings", "vocab_size"]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_PARAMETER_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    HEAD_DIM_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    IS_LLM_FIELD_NUMBER: _ClassVar[int]
    MAX_POSITION_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    NUM_ATTENTION_HEADS_FIELD_NUMBER: _ClassVar[int]
    NUM_EXPERTS_FIELD_NUMBER: _ClassVar[int]
    NUM_EXPERTS_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NUM_KEY_VALUE_HEADS_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    NUM_SHARED_EXPERTS_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    TIE_WORD_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    architecture: str
    bytes_per_parameter: float
    dtype: str
    head_dim: int
    hidden_size: int
    is_llm: bool
    max_position_embeddings: int
    memory: MemoryEstimate
    missing_fields: _containers.RepeatedScalarFieldContainer[str]
    model_type: str
    num_attention_heads: int
    num_experts: int
    num_experts_per_token: int
    num_key_value_heads: int
    num_layers: int
    num_shared_experts: int
    parameter_count: int
    parameter_count_source: ParameterCountSource
    partial: bool
    tie_word_embeddings: bool
    vocab_size: int
    def __init__(self, architecture: _Optional[str] = ..., model_type: _Optional[str] = ..., dtype: _Optional[str] = ..., bytes_per_parameter: _Optional[float] = ..., num_layers: _Optional[int] = ..., hidden_size: _Optional[int] = ..., num_attention_heads: _Optional[int] = ..., num_key_value_heads: _Optional[int] = ..., head_dim: _Optional[int] = ..., vocab_size: _Optional[int] = ..., tie_word_embeddings: bool = ..., num_experts: _Optional[int] = ..., num_experts_per_token: _Optional[int] = ..., parameter_count: _Optional[int] = ..., parameter_count_source: _Optional[_Union[ParameterCountSource, str]] = ..., memory: _Optional[_Union[MemoryEstimate, _Mapping]] = ..., partial: bool = ..., missing_fields: _Optional[_Iterable[str]] = ..., is_llm: bool = ..., num_shared_experts: _Optional[int] = ..., max_position_embeddings: _Optional[int] = ...) -> None: ...

class ModelPlacement(_message.Message):
    __slots__ = ["gateway_id", "gpu_uuid", "loaded_time", "memory_bytes", "runtime", "state", "state_time"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    LOADED_TIME_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_TIME_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    gpu_uuid: str
    loaded_time: _timestamp_pb2.Timestamp
    memory_bytes: int
    runtime: str
    state: ModelState
    state_time: _timestamp_pb2.Timestamp
    def __init__(self, gateway_id: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., runtime: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., memory_bytes: _Optional[int] = ..., state_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., loaded_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModelSpec(_message.Message):
    __slots__ = ["architecture", "config_json", "dtype", "format", "model_type", "name", "parameter_count", "safetensors_index_json", "size_bytes", "task"]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    SAFETENSORS_INDEX_JSON_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    architecture: str
    config_json: bytes
    dtype: str
    format: str
    model_type: str
    name: str
    parameter_count: int
    safetensors_index_json: bytes
    size_bytes: int
    task: str
    def __init__(self, name: _Optional[str] = ..., architecture: _Optional[str] = ..., model_type: _Optional[str] = ..., format: _Optional[str] = ..., task: _Optional[str] = ..., parameter_count: _Optional[int] = ..., dtype: _Optional[str] = ..., size_bytes: _Optional[int] = ..., config_json: _Optional[bytes] = ..., safetensors_index_json: _Optional[bytes] = ...) -> None: ...

class ModelStatus(_message.Message):
    __slots__ = ["errors_total", "idle_seconds", "in_flight", "last_request_time", "model_name", "placements", "qps_last_five_minutes", "qps_last_minute", "requests_total"]
    ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LAST_REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    QPS_LAST_FIVE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    QPS_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    errors_total: int
    idle_seconds: float
    in_flight: int
    last_request_time: _timestamp_pb2.Timestamp
    model_name: str
    placements: _containers.RepeatedCompositeFieldContainer[ModelPlacement]
    qps_last_five_minutes: float
    qps_last_minute: float
    requests_total: int
    def __init__(self, model_name: _Optional[str] = ..., placements: _Optional[_Iterable[_Union[ModelPlacement, _Mapping]]] = ..., qps_last_minute: _Optional[float] = ..., qps_last_five_minutes: _Optional[float] = ..., idle_seconds: _Optional[float] = ..., in_flight: _Optional[int] = ..., last_request_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., requests_total: _Optional[int] = ..., errors_total: _Optional[int] = ...) -> None: ...

class PlacementAssignment(_message.Message):
    __slots__ = ["bytes_per_gpu", "gpu_uuids", "model_name"]
    BYTES_PER_GPU_FIELD_NUMBER: _ClassVar[int]
    GPU_UUIDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    bytes_per_gpu: int
    gpu_uuids: _containers.RepeatedScalarFieldContainer[str]
    model_name: str
    def __init__(self, model_name: _Optional[str] = ..., gpu_uuids: _Optional[_Iterable[str]] = ..., bytes_per_gpu: _Optional[int] = ...) -> None: ...

class PlacementFailure(_message.Message):
    __slots__ = ["refusals", "required_bytes"]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_BYTES_FIELD_NUMBER: _ClassVar[int]
    refusals: _containers.RepeatedCompositeFieldContainer[GPURefusal]
    required_bytes: int
    def __init__(self, required_bytes: _Optional[int] = ..., refusals: _Optional[_Iterable[_Union[GPURefusal, _Mapping]]] = ...) -> None: ...

class PlanPlacementRequest(_message.Message):
    __slots__ = ["allow_moving", "models"]
    ALLOW_MOVING_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    allow_moving: bool
    models: _containers.RepeatedCompositeFieldContainer[PlannedModel]
    def __init__(self, models: _Optional[_Iterable[_Union[PlannedModel, _Mapping]]] = ..., allow_moving: bool = ...) -> None: ...

class PlanPlacementResponse(_message.Message):
    __slots__ = ["assignments", "gpus_used", "heuristic", "lower_bound_gpus", "reason", "unplaced"]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    GPUS_USED_FIELD_NUMBER: _ClassVar[int]
    HEURISTIC_FIELD_NUMBER: _ClassVar[int]
    LOWER_BOUND_GPUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UNPLACED_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[PlacementAssignment]
    gpus_used: int
    heuristic: str
    lower_bound_gpus: int
    reason: str
    unplaced: _containers.RepeatedCompositeFieldContainer[UnplacedModel]
    def __init__(self, assignments: _Optional[_Iterable[_Union[PlacementAssignment, _Mapping]]] = ..., unplaced: _Optional[_Iterable[_Union[UnplacedModel, _Mapping]]] = ..., gpus_used: _Optional[int] = ..., lower_bound_gpus: _Optional[int] = ..., heuristic: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PlannedModel(_message.Message):
    __slots__ = ["gpu_count", "model_name", "required_bytes"]
    GPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_BYTES_FIELD_NUMBER: _ClassVar[int]
    gpu_count: int
    model_name: str
    required_bytes: int
    def __init__(self, model_name: _Optional[str] = ..., required_bytes: _Optional[int] = ..., gpu_count: _Optional[int] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ["load", "unload"]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    UNLOAD_FIELD_NUMBER: _ClassVar[int]
    load: LoadRecommendation
    unload: UnloadRecommendation
    def __init__(self, unload: _Optional[_Union[UnloadRecommendation, _Mapping]] = ..., load: _Optional[_Union[LoadRecommendation, _Mapping]] = ...) -> None: ...

class ReportModelStateRequest(_message.Message):
    __slots__ = ["gateway_id", "gpu_uuid", "memory_bytes", "model_name", "observed_time", "reservation_id", "runtime", "state"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_TIME_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    gpu_uuid: str
    memory_bytes: int
    model_name: str
    observed_time: _timestamp_pb2.Timestamp
    reservation_id: str
    runtime: str
    state: ModelState
    def __init__(self, gateway_id: _Optional[str] = ..., model_name: _Optional[str] = ..., runtime: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., memory_bytes: _Optional[int] = ..., observed_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reservation_id: _Optional[str] = ...) -> None: ...

class ReportModelStateResponse(_message.Message):
    __slots__ = ["previous_state", "unexpected_transition"]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTED_TRANSITION_FIELD_NUMBER: _ClassVar[int]
    previous_state: ModelState
    unexpected_transition: bool
    def __init__(self, previous_state: _Optional[_Union[ModelState, str]] = ..., unexpected_transition: bool = ...) -> None: ...

class ReportTrafficRequest(_message.Message):
    __slots__ = ["gateway_id", "samples"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    samples: _containers.RepeatedCompositeFieldContainer[TrafficSample]
    def __init__(self, gateway_id: _Optional[str] = ..., samples: _Optional[_Iterable[_Union[TrafficSample, _Mapping]]] = ...) -> None: ...

class ReportTrafficResponse(_message.Message):
    __slots__ = ["accepted_samples"]
    ACCEPTED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    accepted_samples: int
    def __init__(self, accepted_samples: _Optional[int] = ...) -> None: ...

class RuleMatch(_message.Message):
    __slots__ = ["any", "architectures", "formats", "model_types", "names", "tasks"]
    ANY_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURES_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPES_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    any: bool
    architectures: _containers.RepeatedScalarFieldContainer[str]
    formats: _containers.RepeatedScalarFieldContainer[str]
    model_types: _containers.RepeatedScalarFieldContainer[str]
    names: _containers.RepeatedScalarFieldContainer[str]
    tasks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, architectures: _Optional[_Iterable[str]] = ..., model_types: _Optional[_Iterable[str]] = ..., names: _Optional[_Iterable[str]] = ..., formats: _Optional[_Iterable[str]] = ..., tasks: _Optional[_Iterable[str]] = ..., any: bool = ...) -> None: ...

class RuntimeRule(_message.Message):
    __slots__ = ["description", "match", "name", "runtime"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    description: str
    match: RuleMatch
    name: str
    runtime: str
    def __init__(self, name: _Optional[str] = ..., runtime: _Optional[str] = ..., match: _Optional[_Union[RuleMatch, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class ShouldUnloadRequest(_message.Message):
    __slots__ = ["gateway_id", "model_name"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    model_name: str
    def __init__(self, model_name: _Optional[str] = ..., gateway_id: _Optional[str] = ...) -> None: ...

class ShouldUnloadResponse(_message.Message):
    __slots__ = ["idle_seconds", "in_flight", "qps", "reason", "rule", "unload"]
    IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    QPS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    UNLOAD_FIELD_NUMBER: _ClassVar[int]
    idle_seconds: float
    in_flight: int
    qps: float
    reason: str
    rule: str
    unload: bool
    def __init__(self, unload: bool = ..., rule: _Optional[str] = ..., reason: _Optional[str] = ..., idle_seconds: _Optional[float] = ..., qps: _Optional[float] = ..., in_flight: _Optional[int] = ...) -> None: ...

class SnapshotEnd(_message.Message):
    __slots__ = ["open_recommendations", "sync_required"]
    OPEN_RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    SYNC_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    open_recommendations: int
    sync_required: bool
    def __init__(self, open_recommendations: _Optional[int] = ..., sync_required: bool = ...) -> None: ...

class StreamReset(_message.Message):
    __slots__ = ["reason"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class SyncGatewayRequest(_message.Message):
    __slots__ = ["gateway_id", "models"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    models: _containers.RepeatedCompositeFieldContainer[GatewayModel]
    def __init__(self, gateway_id: _Optional[str] = ..., models: _Optional[_Iterable[_Union[GatewayModel, _Mapping]]] = ...) -> None: ...

class SyncGatewayResponse(_message.Message):
    __slots__ = ["added", "changed", "removed"]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedScalarFieldContainer[str]
    changed: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, added: _Optional[_Iterable[str]] = ..., changed: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ...) -> None: ...

class TrafficSample(_message.Message):
    __slots__ = ["end_time", "errors", "in_flight", "model_name", "requests", "start_time"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    errors: int
    in_flight: int
    model_name: str
    requests: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, model_name: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., requests: _Optional[int] = ..., errors: _Optional[int] = ..., in_flight: _Optional[int] = ...) -> None: ...

class UnloadPolicy(_message.Message):
    __slots__ = ["always_loaded", "decision_interval", "evict_after_idle", "keep_alive", "min_qps"]
    ALWAYS_LOADED_FIELD_NUMBER: _ClassVar[int]
    DECISION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    EVICT_AFTER_IDLE_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_FIELD_NUMBER: _ClassVar[int]
    MIN_QPS_FIELD_NUMBER: _ClassVar[int]
    always_loaded: _containers.RepeatedScalarFieldContainer[str]
    decision_interval: _duration_pb2.Duration
    evict_after_idle: _duration_pb2.Duration
    keep_alive: _containers.RepeatedCompositeFieldContainer[KeepAlive]
    min_qps: float
    def __init__(self, evict_after_idle: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., min_qps: _Optional[float] = ..., always_loaded: _Optional[_Iterable[str]] = ..., keep_alive: _Optional[_Iterable[_Union[KeepAlive, _Mapping]]] = ..., decision_interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UnloadRecommendation(_message.Message):
    __slots__ = ["confidence", "expected_next_request_time", "gateway_id", "gpu_uuid", "idle_seconds", "memory_bytes", "model_name", "qps", "reason", "recommended_time", "rule", "runtime"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_NEXT_REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUID_FIELD_NUMBER: _ClassVar[int]
    IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    QPS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_TIME_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    expected_next_request_time: _timestamp_pb2.Timestamp
    gateway_id: str
    gpu_uuid: str
    idle_seconds: float
    memory_bytes: int
    model_name: str
    qps: float
    reason: str
    recommended_time: _timestamp_pb2.Timestamp
    rule: str
    runtime: str
    def __init__(self, model_name: _Optional[str] = ..., gateway_id: _Optional[str] = ..., gpu_uuid: _Optional[str] = ..., runtime: _Optional[str] = ..., rule: _Optional[str] = ..., reason: _Optional[str] = ..., idle_seconds: _Optional[float] = ..., qps: _Optional[float] = ..., memory_bytes: _Optional[int] = ..., recommended_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expected_next_request_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., confidence: _Optional[float] = ...) -> None: ...

class UnloadWithdrawal(_message.Message):
    __slots__ = ["cause", "reason", "recommendation"]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    cause: WithdrawalCause
    reason: str
    recommendation: UnloadRecommendation
    def __init__(self, recommendation: _Optional[_Union[UnloadRecommendation, _Mapping]] = ..., cause: _Optional[_Union[WithdrawalCause, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class UnplacedModel(_message.Message):
    __slots__ = ["model_name", "reason"]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    reason: str
    def __init__(self, model_name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchRecommendationsRequest(_message.Message):
    __slots__ = ["gateway_id", "gpu_uuids", "kinds", "model_names", "resume_after_sequence", "resume_epoch"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUIDS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAMES_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RESUME_EPOCH_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    gpu_uuids: _containers.RepeatedScalarFieldContainer[str]
    kinds: _containers.RepeatedScalarFieldContainer[RecommendationKind]
    model_names: _containers.RepeatedScalarFieldContainer[str]
    resume_after_sequence: int
    resume_epoch: str
    def __init__(self, gateway_id: _Optional[str] = ..., model_names: _Optional[_Iterable[str]] = ..., gpu_uuids: _Optional[_Iterable[str]] = ..., resume_epoch: _Optional[str] = ..., resume_after_sequence: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[RecommendationKind, str]]] = ...) -> None: ...

class WatchRecommendationsResponse(_message.Message):
    __slots__ = ["epoch", "heartbeat", "recommended", "sequence", "snapshot_end", "stream_reset", "time", "withdrawn"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_END_FIELD_NUMBER: _ClassVar[int]
    STREAM_RESET_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    heartbeat: Heartbeat
    recommended: Recommendation
    sequence: int
    snapshot_end: SnapshotEnd
    stream_reset: StreamReset
    time: _timestamp_pb2.Timestamp
    withdrawn: Withdrawal
    def __init__(self, epoch: _Optional[str] = ..., sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., recommended: _Optional[_Union[Recommendation, _Mapping]] = ..., withdrawn: _Optional[_Union[Withdrawal, _Mapping]] = ..., snapshot_end: _Optional[_Union[SnapshotEnd, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., stream_reset: _Optional[_Union[StreamReset, _Mapping]] = ...) -> None: ...

class WatchUnloadRecommendationsRequest(_message.Message):
    __slots__ = ["gateway_id", "gpu_uuids", "model_names", "resume_after_sequence", "resume_epoch"]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_UUIDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAMES_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RESUME_EPOCH_FIELD_NUMBER: _ClassVar[int]
    gateway_id: str
    gpu_uuids: _containers.RepeatedScalarFieldContainer[str]
    model_names: _containers.RepeatedScalarFieldContainer[str]
    resume_after_sequence: int
    resume_epoch: str
    def __init__(self, gateway_id: _Optional[str] = ..., model_names: _Optional[_Iterable[str]] = ..., gpu_uuids: _Optional[_Iterable[str]] = ..., resume_epoch: _Optional[str] = ..., resume_after_sequence: _Optional[int] = ...) -> None: ...

class WatchUnloadRecommendationsResponse(_message.Message):
    __slots__ = ["epoch", "heartbeat", "recommended", "sequence", "snapshot_end", "stream_reset", "time", "withdrawn"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_END_FIELD_NUMBER: _ClassVar[int]
    STREAM_RESET_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    heartbeat: Heartbeat
    recommended: UnloadRecommendation
    sequence: int
    snapshot_end: SnapshotEnd
    stream_reset: StreamReset
    time: _timestamp_pb2.Timestamp
    withdrawn: UnloadWithdrawal
    def __init__(self, epoch: _Optional[str] = ..., sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., recommended: _Optional[_Union[UnloadRecommendation, _Mapping]] = ..., withdrawn: _Optional[_Union[UnloadWithdrawal, _Mapping]] = ..., snapshot_end: _Optional[_Union[SnapshotEnd, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., stream_reset: _Optional[_Union[StreamReset, _Mapping]] = ...) -> None: ...

class Withdrawal(_message.Message):
    __slots__ = ["cause", "reason", "recommendation"]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    cause: WithdrawalCause
    reason: str
    recommendation: Recommendation
    def __init__(self, recommendation: _Optional[_Union[Recommendation, _Mapping]] = ..., cause: _Optional[_Union[WithdrawalCause, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ParameterCountSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PlacementStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RecommendationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class WithdrawalCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
