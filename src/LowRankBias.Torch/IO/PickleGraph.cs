namespace LowRankBias.Torch.IO;

/// <summary>
/// Walks the values an unpickled object holds — tuples (<c>object?[]</c>), lists and dicts — without recursion and
/// visiting each shared value once. A pickle's memo lets one value appear under many parents (a DAG whose paths grow
/// as 2^depth) or inside itself (a cycle); naive recursive walks then hang or overflow the stack.
/// </summary>
internal static class PickleGraph
{
    /// <summary>The deepest nesting read. Python's pickler recurses per level and stops near 500 (its recursion
    /// limit is 1000), so torch.save never writes deeper; a deeper file was made by hand.</summary>
    internal const int MaxDepth = 1000;

    private static IEnumerable<object?> Children(object? value) => value switch
    {
        object?[] tuple => tuple,
        List<object?> list => list,
        OrderedDictionary<object, object?> dict => dict.Values,
        _ => [],
    };

    private static bool IsContainer(object? value) => value is object?[] or List<object?> or OrderedDictionary<object, object?>;

    /// <summary>A description of what is wrong with the graph under <paramref name="root"/> — a cycle, or nesting deeper
    /// than <see cref="MaxDepth"/> — or null when it is a tree or DAG of bounded depth. Linear in the distinct values.</summary>
    internal static string? Problem(object? root)
    {
        if (!IsContainer(root)) return null;
        var heights = new Dictionary<object, int>(ReferenceEqualityComparer.Instance); // finished containers: levels at and below
        var onPath = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var path = new Stack<Frame>();
        path.Push(new Frame(root!));
        onPath.Add(root!);
        while (path.Count > 0)
        {
            Frame frame = path.Peek();
            if (!frame.Children.MoveNext())
            {
                path.Pop();
                onPath.Remove(frame.Node);
                heights[frame.Node] = frame.Below + 1;
                if (path.Count > 0) path.Peek().Below = Math.Max(path.Peek().Below, frame.Below + 1);
                continue;
            }
            object? child = frame.Children.Current;
            if (!IsContainer(child)) continue;
            if (onPath.Contains(child!))
                return $"the saved object contains itself (a {RestrictedUnpickler.Describe(child)} is reached again from inside it): cycles are not read";
            bool finished = heights.TryGetValue(child!, out int height);
            if (path.Count + (finished ? height : 1) > MaxDepth)
                return $"the saved object nests containers more than {MaxDepth} levels deep (torch.save writes at most about 500)";
            if (finished) frame.Below = Math.Max(frame.Below, height);
            else
            {
                path.Push(new Frame(child!));
                onPath.Add(child!);
            }
        }
        return null;
    }

    private sealed class Frame(object node)
    {
        public object Node { get; } = node;
        public IEnumerator<object?> Children { get; } = PickleGraph.Children(node).GetEnumerator();
        public int Below { get; set; } // the most levels found under Node so far
    }

    /// <summary>Every distinct value reachable from <paramref name="root"/> (itself included), each once, by reference.</summary>
    internal static IEnumerable<object?> Values(object? root)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object?>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            object? value = pending.Pop();
            if (value is not null && !seen.Add(value)) continue;
            yield return value;
            foreach (object? child in Children(value)) pending.Push(child);
        }
    }
}
