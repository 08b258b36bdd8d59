using System.Collections.Concurrent;
using System.Reflection;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// The instance fields of a module type that hold child modules, found once per type by reflection: base-class
/// fields first, then declaration order. An auto-property's (or captured constructor
/// parameter's) compiler-generated field takes the property's (or parameter's) name.
/// </summary>
internal static class ChildFields
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, FieldInfo>> s_cache = new();

    public static IReadOnlyDictionary<string, FieldInfo> Of(Type type) => s_cache.GetOrAdd(type, Discover);

    private static IReadOnlyDictionary<string, FieldInfo> Discover(Type type)
    {
        var hierarchy = new Stack<Type>();
        for (Type? t = type; t is not null && t != typeof(Module); t = t.BaseType) hierarchy.Push(t);

        var fields = new OrderedDictionary<string, FieldInfo>();
        foreach (Type t in hierarchy)
        {
            // Metadata tokens follow declaration order; GetFields itself promises no order.
            IEnumerable<FieldInfo> declared = t
                .GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => typeof(Module).IsAssignableFrom(f.FieldType))
                .OrderBy(f => f.MetadataToken);
            foreach (FieldInfo field in declared)
            {
                string name = ChildName(field);
                if (!fields.TryAdd(name, field))
                    throw new InvalidOperationException(
                        $"{type.Name} has two module fields named '{name}' ({fields[name].DeclaringType!.Name} and {t.Name}); rename one, child names must be unique");
            }
        }
        return fields;
    }

    // Compiler-generated fields are named "<X>k__BackingField" (auto-property X) or "<X>P" (captured primary
    // constructor parameter X): the child is called X.
    private static string ChildName(FieldInfo field)
    {
        string name = field.Name;
        int close = name.IndexOf('>');
        return name.StartsWith('<') && close > 1 ? name[1..close] : name;
    }
}
