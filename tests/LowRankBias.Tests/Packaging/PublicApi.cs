using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace LowRankBias.Tests.Packaging;

/// <summary>
/// The public surface of an assembly as sorted text lines, one per exported type and per public or protected member,
/// with C#-style type names: what a consumer can call, so any change to it shows as a diff.
/// </summary>
internal static class PublicApi
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static IReadOnlyList<string> Lines(Assembly assembly) =>
        assembly.GetExportedTypes().SelectMany(TypeLines).Order(StringComparer.Ordinal).ToList();

    private static IEnumerable<string> TypeLines(Type type)
    {
        string owner = Name(type);
        yield return $"{Kind(type)} {owner}{Bases(type)}";
        if (type.IsEnum)
        {
            foreach (string name in Enum.GetNames(type)) yield return $"{owner}.{name}";
            yield break;
        }
        foreach (MemberInfo member in type.GetMembers(Declared).Where(Visible))
        {
            string? line = member switch
            {
                ConstructorInfo c => $"{owner}.{Static(c)}ctor({Parameters(c)})",
                MethodInfo m when !m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal) =>
                    $"{owner}.{Static(m)}{m.Name}{GenericArguments(m)}({Parameters(m)}) -> {Name(m.ReturnType)}",
                PropertyInfo p => $"{owner}.{p.Name}{Indexer(p)} : {Name(p.PropertyType)} {{{Accessors(p)} }}",
                FieldInfo f => $"{owner}.{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{f.Name} : {Name(f.FieldType)}",
                EventInfo e => $"{owner}.event {e.Name} : {Name(e.EventHandlerType!)}",
                _ => null,  // nested types are listed as types of their own; accessors with their property
            };
            if (line is not null) yield return line;
        }
    }

    private static bool Visible(MemberInfo member)
    {
        // An auto-property's accessors are marked compiler-generated too, yet they are its public surface.
        bool accessor = member is MethodInfo { IsSpecialName: true };
        if (member.Name.Contains('<') || (!accessor && member.IsDefined(typeof(CompilerGeneratedAttribute)))) return false;
        return member switch
        {
            MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
            FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
            PropertyInfo p => p.GetAccessors(nonPublic: true).Any(Visible),
            EventInfo e => e.AddMethod is { } add && Visible(add),
            _ => false,
        };
    }

    private static string Kind(Type t) =>
        t.IsInterface ? "interface" : t.IsEnum ? "enum" : t.IsValueType ? "struct"
        : typeof(Delegate).IsAssignableFrom(t) ? "delegate"
        : t.IsAbstract && t.IsSealed ? "static class" : t.IsAbstract ? "abstract class" : t.IsSealed ? "sealed class" : "class";

    private static string Bases(Type t)
    {
        var bases = new List<string>();
        if (t.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && !typeof(Delegate).IsAssignableFrom(t))
            bases.Add(Name(b));
        // Interfaces the type adds itself, not those it inherits from its base class.
        IEnumerable<Type> own = t.GetInterfaces().Except(t.BaseType?.GetInterfaces() ?? []);
        bases.AddRange(own.Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static string Static(MethodBase m) =>
        m.IsStatic ? "static " : m.IsAbstract ? "abstract "
        : m is MethodInfo method && method.GetBaseDefinition() != method ? "override "
        : m.IsVirtual && !m.IsFinal ? "virtual " : "";

    private static string GenericArguments(MethodInfo m) =>
        m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(Parameter));

    private static string Parameter(ParameterInfo p)
    {
        var text = new StringBuilder();
        if (p.IsDefined(typeof(ParamArrayAttribute)) || p.IsDefined(typeof(ParamCollectionAttribute))) text.Append("params ");
        if (p.ParameterType.IsByRef) text.Append(p.IsOut ? "out " : p.IsIn ? "in " : "ref ");
        text.Append(Name(p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType)).Append(' ').Append(p.Name);
        if (p.HasDefaultValue)
            text.Append(" = ").Append(p.DefaultValue switch
            {
                null => "null",
                string s => $"\"{s}\"",
                bool b => b ? "true" : "false",
                var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture),
            });
        return text.ToString();
    }

    private static string Indexer(PropertyInfo p)
    {
        ParameterInfo[] index = p.GetIndexParameters();
        return index.Length == 0 ? "" : "[" + string.Join(", ", index.Select(Parameter)) + "]";
    }

    private static string Accessors(PropertyInfo p)
    {
        var parts = new List<string>();
        if (p.GetMethod is { } get && Visible(get)) parts.Add(" get;");
        if (p.SetMethod is { } set && Visible(set))
            parts.Add(set.ReturnParameter.GetRequiredCustomModifiers().Any(m => m == typeof(IsExternalInit)) ? " init;" : " set;");
        return string.Concat(parts);
    }

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte", [typeof(short)] = "short",
        [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint", [typeof(long)] = "long", [typeof(ulong)] = "ulong",
        [typeof(float)] = "float", [typeof(double)] = "double", [typeof(decimal)] = "decimal", [typeof(char)] = "char",
        [typeof(string)] = "string", [typeof(object)] = "object", [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    private static string Name(Type t)
    {
        if (Keywords.TryGetValue(t, out string? keyword)) return keyword;
        if (t.IsGenericParameter) return t.Name;
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsPointer) return Name(t.GetElementType()!) + "*";
        if (Nullable.GetUnderlyingType(t) is { } underlying) return Name(underlying) + "?";
        string name = t.IsNested ? Name(t.DeclaringType!) + "." + t.Name : t.Namespace is { Length: > 0 } ns && ns.StartsWith("LowRankBias", StringComparison.Ordinal) ? t.FullName! : t.Name;
        if (!t.IsGenericType) return name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        string bare = tick < 0 ? name : name[..tick];
        Type[] own = t.GetGenericArguments().Skip(t.IsNested ? t.DeclaringType!.GetGenericArguments().Length : 0).ToArray();
        return own.Length == 0 ? bare : $"{bare}<{string.Join(", ", own.Select(Name))}>";
    }
}
