using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA applied to any model (PEFT's <c>LoraModel</c>/<c>PeftModel</c>): each adapter's config selects layers, which
/// are replaced in place by LoRA wrappers through <see cref="Module.set_submodule"/>, so it works for users' own
/// classes too. Holds named adapters with switching, enabling, merging and unloading, and reads and writes
/// PEFT's adapter files. Only the active adapters' factors, the biases their <c>bias</c> setting names and the
/// <c>modules_to_save</c> train; everything else is frozen. The forward pass is the model's.
/// </summary>
public sealed partial class LoraModel : Module
{
    private readonly OrderedDictionary<string, LoraConfig> _configs = new();
    private readonly Dictionary<string, List<string>> _saved = [];
    private string[] _active = [];

    /// <summary>Wraps <paramref name="model"/> without adapters yet (add them with <see cref="add_adapter"/> or <see cref="load_adapter"/>).</summary>
    public LoraModel(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is LoraModel) throw new ArgumentException("the model is already a LoraModel; add adapters to it instead", nameof(model));
        this.model = model;
    }

    /// <summary>Injects adapter <paramref name="adapter_name"/> described by <paramref name="config"/> into <paramref name="model"/>.</summary>
    public LoraModel(Module model, LoraConfig config, string adapter_name = "default") : this(model) => add_adapter(adapter_name, config);

    /// <summary>The adapted model (its LoRA targets now are <see cref="LoraLayer"/>s). Null after unloading.</summary>
    public Module model { get; private set; }

    /// <summary>Each adapter's config, as given.</summary>
    public IReadOnlyDictionary<string, LoraConfig> peft_config => _configs;

    /// <summary>The adapters the forward pass applies.</summary>
    public IReadOnlyList<string> active_adapters => _active;

    /// <summary>Paths of the modules kept trainable and saved with the adapters.</summary>
    public IReadOnlyList<string> modules_to_save => _saved.Values.SelectMany(p => p).Distinct().ToList();

    /// <summary>The LoRA layers of the model with their paths.</summary>
    public IEnumerable<(string path, LoraLayer layer)> lora_layers() =>
        Model.named_modules().Where(m => m.module is LoraLayer).Select(m => (m.name, (LoraLayer)m.module));

    /// <summary>
    /// Adds an adapter: resolves <paramref name="config"/>'s targets (per-layer rank and α from its patterns), wraps
    /// new targets and extends already wrapped ones. The first adapter becomes active; select others with <see cref="set_adapter"/>.
    /// </summary>
    public void add_adapter(string adapter_name, LoraConfig config) => Commit(PlanAdapter(adapter_name, config));

    // An adapter ready to be added: targets resolved and checked, the wrappers of new targets built. The model is
    // unchanged but for the base layers' requires_grad flags, which wrapping clears and Flags holds.
    private sealed record AdapterPlan(string Name, LoraConfig Config, List<(string path, Module module)> Targets, List<string> Saved,
        List<(string path, LoraLayer layer, Module original)> Created, List<(Tensor p, bool requiresGrad)> Flags)
    {
        // The LoRA layer each target will be: its existing wrapper or the one built for it.
        public IEnumerable<(string path, LoraLayer layer)> Layers() =>
            Targets.Select(t => (t.path, t.module as LoraLayer ?? Created.First(c => c.path == t.path).layer));

        // Base weights a data-aware init rewrites in place, with copies to put back if the plan is discarded.
        public List<(Tensor weight, Tensor saved)> KeptWeights { get; } = [];

        public void KeepWeight(Module module)
        {
            Tensor weight = module.named_parameters(recurse: false).First(p => p.name == "weight").parameter;
            using Tensor detached = weight.detach();
            KeptWeights.Add((weight, detached.clone().DetachFromDisposeScope()));
        }

        public void ReleaseKeptWeights(bool restore)
        {
            using (torch.no_grad())
                foreach ((Tensor weight, Tensor saved) in KeptWeights)
                {
                    if (restore) weight.copy_(saved);
                    saved.Dispose();
                }
            KeptWeights.Clear();
        }
    }

    // Checks the layers that already carry LoRA and builds every new wrapper before changing anything, so a layer
    // that rejects the config leaves the model as it was.
    private AdapterPlan PlanAdapter(string adapter_name, LoraConfig config)
    {
        LoraLayer.CheckAdapterName(adapter_name);
        ArgumentNullException.ThrowIfNull(config);
        if (_configs.ContainsKey(adapter_name)) throw new ArgumentException($"the model already has an adapter named '{adapter_name}'", nameof(adapter_name));
        config.Validate();
        CheckNameAgainstModel(adapter_name);
        List<(string path, Module module)> targets = LoraTargets.Resolve(Model, config);
        List<string> saved = LoraTargets.ModulesToSave(Model, config.modules_to_save);
        CheckSavedAgainstLora(targets, saved);

        foreach ((string path, Module module) in targets)
        {
            BaseQuantization.Check(module, config.base_quantization, path);
            DataAwareInit.Check(module, config.ForModule(path), path);
            if (module is LoraLayer existing) existing.CheckFits(adapter_name, config.ForModule(path));
        }
        var plan = new AdapterPlan(adapter_name, config, targets, saved, [], Model.parameters().Select(p => (p, p.requires_grad)).ToList());
        try
        {
            foreach ((string path, Module module) in targets)
                if (module is not LoraLayer)
                {
                    Module baseLayer = BaseQuantization.Apply(module, config.base_quantization, path);
                    if (baseLayer == module && LoraInit.IsDataAware(config.init_lora_weights)) plan.KeepWeight(module);
                    Tensor? fullPrecision = baseLayer != module && module is Linear linear ? linear.weight : null; // what a data-aware init fits
                    try { plan.Created.Add((path, LoraLayerFactory.Create(baseLayer, config.ForModule(path), adapter_name, fullPrecision), module)); }
                    catch { if (baseLayer != module) baseLayer.Dispose(); throw; }
                }
            return plan;
        }
        catch
        {
            Discard(plan);
            throw;
        }
    }

    // Drops a plan that will not be committed: frees the wrappers (and quantized copies) and restores the flags.
    private static void Discard(AdapterPlan plan)
    {
        foreach ((_, LoraLayer layer, Module original) in plan.Created)
        {
            Module baseLayer = layer.Unwrap();
            if (baseLayer != original) baseLayer.Dispose();
        }
        plan.ReleaseKeptWeights(restore: true);
        foreach ((Tensor p, bool requiresGrad) in plan.Flags) p.requires_grad = requiresGrad;
    }

    private void Commit(AdapterPlan plan)
    {
        plan.ReleaseKeptWeights(restore: false);
        foreach ((string path, Module module) in plan.Targets)
            if (module is LoraLayer existing) existing.update_layer(plan.Name, plan.Config.ForModule(path));
        foreach ((string path, LoraLayer layer, Module original) in plan.Created)
        {
            Model.set_submodule(path, layer);
            // A quantized base replaced the full-precision layer, whose memory is what quantizing saves.
            if (layer.base_layer != original) original.Dispose();
        }

        _configs.Add(plan.Name, plan.Config);
        _saved.Add(plan.Name, plan.Saved);
        if (_active.Length == 0) _active = [plan.Name];
        MarkTrainable();
    }

    /// <summary>Makes <paramref name="adapter_names"/> the active adapters; only their factors train.</summary>
    public void set_adapter(params string[] adapter_names)
    {
        ArgumentNullException.ThrowIfNull(adapter_names);
        if (adapter_names.Length == 0) throw new ArgumentException("name at least one adapter", nameof(adapter_names));
        foreach (string name in adapter_names) CheckAdapter(name);
        _active = adapter_names.Distinct().ToArray();
        MarkTrainable();
    }

    /// <summary>Turns every LoRA layer back on.</summary>
    public void enable_adapters()
    {
        foreach ((_, LoraLayer layer) in lora_layers()) layer.enable_adapters(true);
    }

    /// <summary>Turns every LoRA layer off (unmerging merged adapters first): the model computes its base output.</summary>
    public void disable_adapters()
    {
        foreach ((_, LoraLayer layer) in lora_layers()) layer.enable_adapters(false);
    }

    /// <summary>
    /// Folds adapters (default: the active ones) into the base weights, computed in float32 or float64 (see
    /// <see cref="LoraLayer.merge"/>). With <paramref name="safe_merge"/> a layer whose result would hold NaN or
    /// infinity refuses and throws; layers merged before it stay merged.
    /// </summary>
    public void merge(bool safe_merge = false, IReadOnlyList<string>? adapter_names = null)
    {
        IReadOnlyList<string> names = adapter_names ?? _active;
        foreach (string name in names) CheckAdapter(name);
        foreach ((_, LoraLayer layer) in lora_layers())
            layer.merge(safe_merge, names.Where(layer.adapter_configs.ContainsKey).ToArray());
    }

    /// <summary>Subtracts every merged adapter from the base weights again.</summary>
    public void unmerge()
    {
        foreach ((_, LoraLayer layer) in lora_layers()) layer.unmerge();
    }

    /// <summary>
    /// Merges (see <see cref="merge"/>), then replaces every LoRA layer by its base layer and frees the adapters.
    /// Returns the plain model, which this object no longer holds; parameters keep their requires_grad flags (PEFT's behaviour).
    /// </summary>
    public Module merge_and_unload(bool safe_merge = false, IReadOnlyList<string>? adapter_names = null)
    {
        merge(safe_merge, adapter_names);
        return unload();
    }

    /// <summary>Replaces every LoRA layer by its base layer without merging, frees the adapters and returns the plain model.</summary>
    public Module unload()
    {
        Module plain = Model;
        foreach ((string path, LoraLayer layer) in lora_layers().ToList()) plain.set_submodule(path, layer.Unwrap());
        model = null!;
        _configs.Clear();
        _saved.Clear();
        _inferenceAdapters.Clear();
        _active = [];
        return plain;
    }

    /// <summary>(trainable, all) parameter counts, each shared parameter once.</summary>
    public (long trainable, long all) get_nb_trainable_parameters()
    {
        long trainable = 0, all = 0;
        foreach (Tensor p in parameters())
        {
            long n = p.numel();
            all += n;
            if (p.requires_grad) trainable += n;
        }
        return (trainable, all);
    }

    /// <summary>Prints and returns <c>trainable params: 1,234 || all params: 56,789 || trainable%: 2.1730</c> (PEFT's line).</summary>
    public string print_trainable_parameters()
    {
        (long trainable, long all) = get_nb_trainable_parameters();
        string line = string.Create(CultureInfo.InvariantCulture,
            $"trainable params: {trainable:N0} || all params: {all:N0} || trainable%: {(all == 0 ? 0 : 100.0 * trainable / all):F4}");
        Console.WriteLine(line);
        return line;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Model.call(input);

    private Module Model => model ?? throw new InvalidOperationException("the LoraModel was unloaded: use the model merge_and_unload or unload returned");

    private void CheckAdapter(string name)
    {
        if (!_configs.ContainsKey(name))
            throw new ArgumentException($"unknown adapter '{name}' (adapters: {string.Join(", ", _configs.Keys)})", nameof(name));
    }

    // A module is either trained whole and saved (modules_to_save) or carries LoRA, never both: its file keys would differ.
    private void CheckSavedAgainstLora(List<(string path, Module module)> targets, List<string> saved)
    {
        static bool Within(string path, string root) => path == root || path.StartsWith(root + ".", StringComparison.Ordinal);
        string[] savedBefore = modules_to_save.ToArray();
        foreach ((string path, _) in targets)
            if (savedBefore.FirstOrDefault(s => Within(path, s)) is string root)
                throw new ArgumentException($"'{path}' cannot carry LoRA: it is in modules_to_save ('{root}') of another adapter");
        string[] loraPaths = lora_layers().Select(l => l.path).ToArray();
        foreach (string root in saved)
            if (loraPaths.FirstOrDefault(p => Within(p, root)) is string path)
                throw new ArgumentException($"modules_to_save entry '{root}' contains '{path}', which carries LoRA; a module is either saved whole or adapted");
    }

    // PEFT-style files and tools find adapters by key segments; a name equal to one of the model's segments would be ambiguous.
    private void CheckNameAgainstModel(string adapter_name)
    {
        foreach ((string key, _) in Model.named_parameters())
            if (key.Split('.').Contains(adapter_name))
                throw new ArgumentException($"adapter name '{adapter_name}' is also a segment of the model's parameter '{key}'; choose a name that does not clash with key segments", nameof(adapter_name));
    }

    // PEFT's _mark_only_adapters_as_trainable: freeze all, then unfreeze the active adapters' factors, the biases
    // their bias settings name and the modules to save; adapters loaded for inference stay frozen.
    private void MarkTrainable()
    {
        Model.requires_grad_(false);
        List<(string path, LoraLayer layer)> layers = lora_layers().ToList();
        foreach ((_, LoraLayer layer) in layers)
        {
            layer.set_adapter(_active.Where(layer.adapter_configs.ContainsKey).ToArray());
            foreach (string name in _inferenceAdapters.Where(layer.adapter_configs.ContainsKey))
                foreach (Tensor p in layer.AdapterParameters(name)) p.requires_grad = false;
        }
        string[] training = _active.Except(_inferenceAdapters).ToArray();
        foreach (string name in training)
        {
            string bias = _configs[name].bias;
            if (bias == LoraBias.All)
                foreach ((string key, Tensor p) in Model.named_parameters())
                    if (key == "bias" || key.EndsWith(".bias", StringComparison.Ordinal)) p.requires_grad = true;
            if (bias == LoraBias.LoraOnly)
                foreach ((_, LoraLayer layer) in layers.Where(l => l.layer.adapter_configs.ContainsKey(name)))
                    foreach ((string key, Tensor p) in layer.base_layer.named_parameters(recurse: false))
                        if (key == "bias") p.requires_grad = true;
        }
        if (training.Length > 0)
            foreach (string path in training.SelectMany(name => _saved[name])) Model.get_submodule(path).requires_grad_(true);
    }
}
