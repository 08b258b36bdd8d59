using System.Text;

namespace LowRankBias.Torch.Modules;

// PyTorch-style printing: the type name, the module's own settings (extra_repr), then each child indented.
public abstract partial class Module
{
    /// <summary>The module's own settings for <see cref="ToString"/>, e.g. <c>in_features=4, out_features=2, bias=True</c>.</summary>
    public virtual string extra_repr() => "";

    /// <summary>A tree such as <c>Sequential(\n  (0): Linear(in_features=4, out_features=2, bias=True)\n)</c>.</summary>
    public override string ToString()
    {
        var lines = new List<string>();
        string extra = extra_repr();
        if (extra.Length > 0) lines.AddRange(extra.Split('\n'));
        bool hasChildren = false;
        foreach ((string name, Module child) in named_children())
        {
            hasChildren = true;
            lines.Add($"({name}): {child.ToString().Replace("\n", "\n  ")}");
        }

        var text = new StringBuilder(TypeName).Append('(');
        if (lines.Count == 1 && !hasChildren) text.Append(lines[0]);
        else if (lines.Count > 0) text.Append("\n  ").AppendJoin("\n  ", lines).Append('\n');
        return text.Append(')').ToString();
    }
}
