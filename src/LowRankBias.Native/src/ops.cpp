// The generic entry point: any ATen operator by name and overload through the boxed dispatcher.
// Operator handles are looked up once (lrb_op_find) and cached by the caller.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include "common.h"

struct lrb_op {
  c10::OperatorHandle handle;
  std::vector<int32_t> codes;
  std::vector<std::string> names;
  std::vector<std::string> types;
  std::string schema;
  bool functional;  // no argument or return aliases: neither in-place nor a view
};

namespace {

using lrb::T;
using lrb::wrap;

bool is_functional(const c10::FunctionSchema& schema) {
  for (const auto& arg : schema.arguments())
    if (arg.alias_info()) return false;
  for (const auto& ret : schema.returns())
    if (ret.alias_info()) return false;
  return true;
}

bool any_requires_grad(const torch::jit::Stack& values) {
  for (const auto& v : values) {
    if (v.isTensor()) {
      if (v.toTensor().requires_grad()) return true;
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorList().vec())
        if (t.requires_grad()) return true;
    } else if (v.isList()) {  // Tensor?[]
      for (const c10::IValue& e : v.toListRef())
        if (e.isTensor() && e.toTensor().requires_grad()) return true;
    }
  }
  return false;
}

int32_t classify(c10::TypePtr type) {
  int32_t flags = 0;
  if (type->kind() == c10::TypeKind::OptionalType) {
    flags |= LRB_T_OPTIONAL;
    type = type->expectRef<c10::OptionalType>().getElementType();
  }
  if (type->kind() == c10::TypeKind::ListType) {
    flags |= LRB_T_LIST;
    type = type->expectRef<c10::ListType>().getElementType();
    if (type->kind() == c10::TypeKind::OptionalType) {
      flags |= LRB_T_ELEM_OPTIONAL;
      type = type->expectRef<c10::OptionalType>().getElementType();
    }
  }
  const std::string s = type->str();
  int32_t base = LRB_T_OTHER;
  if (s == "Tensor") base = LRB_T_TENSOR;
  else if (s == "int" || s == "SymInt" || s == "ScalarType" || s == "Layout" || s == "MemoryFormat") base = LRB_T_INT;
  else if (s == "float") base = LRB_T_FLOAT;
  else if (s == "bool") base = LRB_T_BOOL;
  else if (s == "Scalar" || s == "number") base = LRB_T_SCALAR;
  else if (s == "str") base = LRB_T_STRING;
  else if (s == "Device") base = LRB_T_DEVICE;
  else if (s == "Generator") base = LRB_T_GENERATOR;
  return base | flags;
}

c10::IValue to_ivalue(const lrb_arg& a, const c10::Argument& schema_arg, const char* op_name) {
  switch (a.kind) {
    case LRB_ARG_NONE: return c10::IValue();
    case LRB_ARG_TENSOR: return c10::IValue(T((lrb_tensor*)a.p));
    case LRB_ARG_TENSOR_LIST: {
      auto handles = static_cast<lrb_tensor* const*>(a.p);
      std::vector<at::Tensor> list;
      list.reserve(a.len);
      for (int32_t i = 0; i < a.len; ++i) list.push_back(T(handles[i]));
      return c10::IValue(std::move(list));
    }
    case LRB_ARG_OPT_TENSOR_LIST: {
      auto handles = static_cast<lrb_tensor* const*>(a.p);
      c10::List<c10::optional<at::Tensor>> list;
      for (int32_t i = 0; i < a.len; ++i)
        list.push_back(handles[i] ? c10::optional<at::Tensor>(T(handles[i])) : c10::nullopt);
      return c10::IValue(std::move(list));
    }
    case LRB_ARG_INT: return c10::IValue(a.i);
    case LRB_ARG_INT_LIST: {
      auto values = static_cast<const int64_t*>(a.p);
      return c10::IValue(std::vector<int64_t>(values, values + a.len));
    }
    case LRB_ARG_DOUBLE: return c10::IValue(a.d);
    case LRB_ARG_DOUBLE_LIST: {
      auto values = static_cast<const double*>(a.p);
      return c10::IValue(std::vector<double>(values, values + a.len));
    }
    case LRB_ARG_BOOL: return c10::IValue(a.i != 0);
    case LRB_ARG_BOOL_LIST: {
      auto values = static_cast<const int64_t*>(a.p);
      c10::List<bool> list;
      for (int32_t i = 0; i < a.len; ++i) list.push_back(values[i] != 0);
      return c10::IValue(std::move(list));
    }
    case LRB_ARG_STRING: return c10::IValue(std::string(static_cast<const char*>(a.p)));
    case LRB_ARG_DEVICE:
      return c10::IValue(c10::Device(static_cast<c10::DeviceType>(a.i), static_cast<c10::DeviceIndex>(a.len)));
    case LRB_ARG_GENERATOR: return c10::IValue(*static_cast<const at::Generator*>(a.p));
    case LRB_ARG_DEFAULT: {
      TORCH_CHECK(schema_arg.default_value().has_value(), op_name, ": argument '", schema_arg.name(),
                  "' has no default value");
      return *schema_arg.default_value();
    }
  }
  TORCH_CHECK(false, op_name, ": unknown argument kind ", a.kind, " for '", schema_arg.name(), "'");
}

void flatten(c10::IValue&& v, std::vector<lrb_out>& out) {
  if (v.isTensor()) {
    at::Tensor t = std::move(v).toTensor();
    out.push_back({LRB_OUT_TENSOR, 0, 0, 0.0, t.defined() ? wrap(std::move(t)) : nullptr});
  } else if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) out.push_back({LRB_OUT_TENSOR, 0, 0, 0.0, wrap(t)});
  } else if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) flatten(c10::IValue(e), out);
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) flatten(c10::IValue(e), out);
  } else if (v.isBool()) {
    out.push_back({LRB_OUT_BOOL, 0, v.toBool() ? 1 : 0, 0.0, nullptr});
  } else if (v.isInt()) {
    out.push_back({LRB_OUT_INT, 0, v.toInt(), 0.0, nullptr});
  } else if (v.isDouble()) {
    out.push_back({LRB_OUT_DOUBLE, 0, 0, v.toDouble(), nullptr});
  } else if (v.isNone()) {
    out.push_back({LRB_OUT_NONE, 0, 0, 0.0, nullptr});
  } else {
    TORCH_CHECK(false, "operator returned a value of unsupported type ", v.tagKind());
  }
}

thread_local torch::jit::Stack stack;
thread_local std::vector<lrb_out> pending;

}  // namespace

extern "C" {

int32_t lrb_op_find(const char* name, const char* overload, lrb_op** op, int32_t* nargs, int32_t* nreturns) {
  LRB_GUARD({
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    TORCH_CHECK(handle.has_value(), "operator ", name, (*overload ? "." : ""), overload,
                " is not registered in this libtorch");
    const auto& schema = handle->schema();
    auto result = new lrb_op{*handle, {}, {}, {}, c10::toString(schema), is_functional(schema)};
    for (const auto& arg : schema.arguments()) {
      result->codes.push_back(classify(arg.type()));
      result->names.push_back(arg.name());
      result->types.push_back(arg.type()->str());
    }
    *nargs = static_cast<int32_t>(schema.arguments().size());
    *nreturns = static_cast<int32_t>(schema.returns().size());
    *op = result;
  });
}

void lrb_op_arg(lrb_op* op, int32_t i, int32_t* type_code, int32_t* has_default, const char** name,
                const char** type_str) {
  *type_code = op->codes[i];
  *has_default = op->handle.schema().arguments()[i].default_value().has_value() ? 1 : 0;
  *name = op->names[i].c_str();
  *type_str = op->types[i].c_str();
}

const char* lrb_op_schema(lrb_op* op) { return op->schema.c_str(); }

int32_t lrb_op_has_kernel(lrb_op* op, int32_t device_type, int32_t* has_kernel) {
  LRB_GUARD({
    c10::Device device(static_cast<c10::DeviceType>(device_type));
    *has_kernel = op->handle.hasKernelForDispatchKey(c10::computeDispatchKey(c10::nullopt, c10::nullopt, device)) ? 1 : 0;
  });
}

int32_t lrb_op_call(lrb_op* op, const lrb_arg* args, int32_t nargs, lrb_out* outs, int32_t cap, int32_t* nouts) {
  LRB_GUARD({
    // A thread_local of a shared library costs a __tls_get_addr call per use: look each up once.
    torch::jit::Stack& values = stack;
    std::vector<lrb_out>& results = pending;
    const auto& schema_args = op->handle.schema().arguments();
    const char* op_name = op->schema.c_str();
    values.clear();
    for (size_t i = 0; i < schema_args.size(); ++i) {
      if (static_cast<int32_t>(i) < nargs) {
        values.push_back(to_ivalue(args[i], schema_args[i], op_name));
      } else {
        TORCH_CHECK(schema_args[i].default_value().has_value(), op_name, ": missing argument '",
                    schema_args[i].name(), "'");
        values.push_back(*schema_args[i].default_value());
      }
    }
    // A functional op none of whose inputs requires grad goes straight to its kernel, as in inference mode: the
    // autograd layer would only forward the call. In-place and view ops keep it (version counters, view bases).
    c10::optional<at::AutoDispatchBelowADInplaceOrView> below_autograd;
    if (op->functional && !any_requires_grad(values)) below_autograd.emplace();
    op->handle.callBoxed(values);
    results.clear();
    for (auto& v : values) flatten(std::move(v), results);
    values.clear();
    *nouts = static_cast<int32_t>(results.size());
    if (*nouts <= cap) {
      std::copy(results.begin(), results.end(), outs);
      results.clear();
    }
  });
}

int32_t lrb_op_take_results(lrb_out* outs, int32_t n) {
  LRB_GUARD({
    TORCH_CHECK(static_cast<size_t>(n) == pending.size(), "expected ", pending.size(), " pending results, not ", n);
    std::copy(pending.begin(), pending.end(), outs);
    pending.clear();
  });
}

}  // extern "C"
