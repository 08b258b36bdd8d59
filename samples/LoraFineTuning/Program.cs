// LoRA fine-tuning from a torchvision checkpoint, and back to PyTorch: loads a torchvision-format ViT (.pt), adapts
// q, k, v, o and both MLP layers of every block with rank-8 LoRA (the classifier trained in full as a module to
// save), fine-tunes on Fashion-MNIST (28×28 grey, padded to 32×32 and repeated to the checkpoint's 3 channels),
// and saves a PEFT adapter directory, the merged model as a torchvision .pt and the logits of 16 test images;
// check_adapter.py applies the adapter to the same checkpoint in PyTorch with the plain formula W + (α/r)·B·A, and
// loads the merged .pt with torch.load(weights_only=True): both must give the same logits.
using System.CommandLine;
using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Training;

var cli = new ProgramCommand("lora-finetuning", "LoRA fine-tuning of a torchvision ViT on Fashion-MNIST, saved as a PEFT adapter");
var checkpoint = cli.Add("--checkpoint", Path.Combine("tests", "fixtures", "pretrained", "torchvision_vit.pt"), "torchvision ViT state dict (.pt/.pth/.safetensors)");
var heads = cli.Optional<long?>("--num-heads", "attention heads [default: from config.json beside the file or a standard ViT size; the fixture has 2]", "N");
var steps = cli.Add("--steps", 600, "fine-tuning steps");
var testImages = cli.Add("--test", 10_000, "test images evaluated");
ParseResult parsed = cli.Parse(args);
return Run(Path.GetFullPath(parsed.GetValue(checkpoint)!), parsed.GetValue(heads), parsed.GetValue(steps), parsed.GetValue(testImages), Path.GetFullPath(cli.OutputPath(parsed)));

static int Run(string checkpointPath, long? numHeads, int steps, int testCount, string output)
{
    if (steps <= 0 || testCount <= 0)
    {
        Console.Error.WriteLine($"LoraFineTuning: --steps and --test must be positive (got {steps} and {testCount})");
        return 1;
    }
    if (Directory.Exists(checkpointPath)) throw new ArgumentException($"--checkpoint {checkpointPath} is a folder; give the checkpoint file (.pt, .pth, .safetensors)");
    manual_seed(0);
    using VisionTransformer vit = VisionTransformer.from_pretrained(checkpointPath, VitLayout.Torchvision, numHeads);
    ProgramCommand.CreateOutput(output);
    VisionTransformer.Config c = vit.config;
    if (c.num_classes != 10) throw new InvalidDataException($"{checkpointPath}: the classifier has {c.num_classes} outputs; Fashion-MNIST has 10");
    var config = new LoraConfig
    {
        r = 8, lora_alpha = 16, target_modules = new[] { "q", "k", "v", "o", "fc1", "fc2" }, modules_to_save = new[] { "head" },
    };
    using var model = new LoraModel(vit, config);
    Console.WriteLine($"{checkpointPath}: torchvision ViT, image {c.image_size}, patch {c.patch_size}, {c.num_layers} blocks, width {c.hidden_dim}, " +
                      $"{c.num_heads} heads; LoRA r 8 α 16 on q, k, v, o, fc1, fc2, head trained in full");
    model.print_trainable_parameters();

    using TensorDataset train = FashionMnist.Load(train: true), test = FashionMnist.Load(train: false);
    Tensor Prepare(Tensor images)
    {
        // 28×28 grey → the checkpoint's size and channels: zero padding around, the grey channel repeated.
        long pad = (c.image_size - 28) / 2;
        Tensor padded = nn.functional.pad(images, [pad, c.image_size - 28 - pad, pad, c.image_size - 28 - pad]);
        return padded.expand(-1, c.in_channels, -1, -1);
    }

    double Accuracy()
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0, seen = 0;
        var loader = new DataLoader(test, batch_size: 500);
        for (int b = 0; b < loader.Count && seen < testCount; b++)
        {
            using var scope = NewDisposeScope();
            Tensor[] batch = loader.Next();
            correct += (model.call(Prepare(batch[0])).argmax(1) == batch[1]).sum().item<long>();
            seen += batch[1].size(0);
        }
        model.train();
        return (double)correct / seen;
    }

    double before = Accuracy();
    Console.WriteLine($"before fine-tuning: test accuracy {before:P2} (the checkpoint's classifier, no adapter effect yet: B = 0)");
    var trainLoader = new DataLoader(train, batch_size: 128, shuffle: true, drop_last: true, seed: 1);
    using var optimizer = new AdamW(model.parameters().Where(p => p.requires_grad), lr: 3e-3, weight_decay: 0.0);
    using var trainer = new Trainer(model, optimizer, (m, batch) => nn.functional.cross_entropy(m.call(Prepare(batch[0])), batch[1]),
        new TrainerOptions { MaxSteps = steps, LogEvery = 50, Display = LiveTrainingProgress.IfInteractive() });
    TrainingResult result = trainer.Fit(trainLoader);
    double after = Accuracy();
    Console.WriteLine($"after {steps} steps ({result.WallTime:F0} s): test accuracy {after:P2}");

    string adapter = Path.Combine(output, "adapter");
    model.save_pretrained(adapter);
    model.eval();
    using (NewDisposeScope())
    using (no_grad())
    {
        Tensor images = Prepare(test.tensors[0].narrow(0, 0, 16)).contiguous();
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["input"] = images, ["logits"] = model.call(images) }, Path.Combine(output, "roundtrip.safetensors"));
    }
    // The fine-tuned model itself, adapters folded in, as a torch.save file in torchvision's names.
    var merged = (VisionTransformer)model.merge_and_unload();
    merged.save_pretrained(Path.Combine(output, "finetuned_torchvision.pt"), VitLayout.Torchvision);
    OutputFile.WriteAllText(Path.Combine(output, "summary.md"),
        $"| checkpoint | steps | test accuracy before | after |\n|---|---|---|---|\n| {Path.GetFileName(checkpointPath)} | {steps} | {before:P2} | {after:P2} |\n");
    Console.WriteLine($"PEFT adapter in {Path.GetFullPath(adapter)}; check it in PyTorch with:\n" +
                      $"  /usr/bin/python3 samples/LoraFineTuning/check_adapter.py {checkpointPath} {Path.GetFullPath(output)} --num-heads {c.num_heads}");
    return 0;
}
