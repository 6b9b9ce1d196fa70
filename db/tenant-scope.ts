import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  type DeleteQueryNode,
  IdentifierNode,
  type InsertQueryNode,
  JoinNode,
  type KyselyPlugin,
  type MergeQueryNode,
  type OperationNode,
  OperationNodeTransformer,
  OperatorNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PrimitiveValueListNode,
  type QueryId,
  QueryNode,
  type QueryResult,
  ReferenceNode,
  type RootOperationNode,
  type SelectQueryNode,
  TableNode,
  type UnknownRow,
  type UpdateQueryNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
} from 'kysely';

/**
 * Tables whose rows belong to one organization (`organization_id not null`, row-level secured).
 * tests/db/distribution.test.ts checks it against the catalog: a new table with the column must
 * be listed here or named there as global.
 */
export const TENANT_TABLES: ReadonlySet<string> = new Set<string>([
  'medreport.patients',
  'medreport.prescriptions',
  'medreport.invoices',
  'medreport.files',
  'medreport.activity_log',
  'medreport.changes',
  'medreport.sync_horizons',
  'medreport.sync_devices',
  'medreport.sync_errors',
  'medreport.document_issues',
  'medreport.record_counts',
]);

const COLUMN = 'organization_id';

/**
 * Confines every query built through a Kysely instance to one organization: selects, updates
 * and deletes on tenant tables get `organization_id = $org` (in the join condition for joined
 * tables, so outer joins stay outer), inserts get the column set. Subqueries and CTEs are
 * rewritten too. Raw SQL is not rewritten: row-level security covers it.
 */
export class TenantScopePlugin implements KyselyPlugin {
  readonly #transformer: TenantScopeTransformer;

  constructor(organizationId: number, tables: ReadonlySet<string> = TENANT_TABLES) {
    this.#transformer = new TenantScopeTransformer(organizationId, tables);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

export class TenantScopeError extends Error {
  override name = 'TenantScopeError';
}

class TenantScopeTransformer extends OperationNodeTransformer {
  constructor(
    private readonly organizationId: number,
    private readonly tables: ReadonlySet<string>,
  ) {
    super();
  }

  /** `qualifier.organization_id = $org` when `node` is a tenant table (aliased or not), else undefined. */
  #filterFor(node: OperationNode): BinaryOperationNode | undefined {
    let table = node;
    let alias: string | undefined;
    if (AliasNode.is(node) && IdentifierNode.is(node.alias)) {
      table = node.node;
      alias = node.alias.name;
    }
    if (!TableNode.is(table) || !this.#isTenant(table)) return undefined;
    const { schema, identifier } = table.table;
    const qualifier = alias
      ? TableNode.create(alias)
      : schema
        ? TableNode.createWithSchema(schema.name, identifier.name)
        : TableNode.create(identifier.name);
    return BinaryOperationNode.create(
      ReferenceNode.create(ColumnNode.create(COLUMN), qualifier),
      OperatorNode.create('='),
      ValueNode.create(this.organizationId),
    );
  }

  #isTenant(table: TableNode): boolean {
    const { schema, identifier } = table.table;
    return this.tables.has(schema ? `${schema.name}.${identifier.name}` : identifier.name);
  }

  #scopeJoins<T extends SelectQueryNode | UpdateQueryNode | DeleteQueryNode>(node: T): T {
    if (!node.joins?.length) return node;
    let where: T = node;
    const joins = node.joins.map((join) => {
      const filter = this.#filterFor(join.table);
      if (!filter) return join;
      if (join.on) return contains(join.on.on, filter) ? join : JoinNode.cloneWithOn(join, filter);
      where = QueryNode.cloneWithWhere(where, filter); // cross joins have no ON
      return join;
    });
    return { ...where, joins };
  }

  #scopeTables<T extends SelectQueryNode | UpdateQueryNode | DeleteQueryNode>(
    node: T,
    tables: ReadonlyArray<OperationNode>,
  ): T {
    let scoped = node;
    for (const table of tables) {
      const filter = this.#filterFor(table);
      if (filter && !contains(scoped.where?.where, filter)) scoped = QueryNode.cloneWithWhere(scoped, filter);
    }
    return scoped;
  }

  protected override transformSelectQuery(node: SelectQueryNode, queryId?: QueryId): SelectQueryNode {
    const transformed = super.transformSelectQuery(node, queryId);
    return this.#scopeJoins(this.#scopeTables(transformed, transformed.from?.froms ?? []));
  }

  protected override transformUpdateQuery(node: UpdateQueryNode, queryId?: QueryId): UpdateQueryNode {
    const transformed = super.transformUpdateQuery(node, queryId);
    const tables = [...(transformed.table ? [transformed.table] : []), ...(transformed.from?.froms ?? [])];
    return this.#scopeJoins(this.#scopeTables(transformed, tables));
  }

  protected override transformDeleteQuery(node: DeleteQueryNode, queryId?: QueryId): DeleteQueryNode {
    const transformed = super.transformDeleteQuery(node, queryId);
    const tables = [...transformed.from.froms, ...(transformed.using?.tables ?? [])];
    return this.#scopeJoins(this.#scopeTables(transformed, tables));
  }

  protected override transformInsertQuery(node: InsertQueryNode, queryId?: QueryId): InsertQueryNode {
    const transformed = super.transformInsertQuery(node, queryId);
    if (!transformed.into || !this.#isTenant(transformed.into)) return transformed;
    if (!transformed.columns || !transformed.values || !ValuesNode.is(transformed.values)) {
      throw new TenantScopeError('tenant inserts must list their columns and values');
    }
    const org = this.organizationId;
    const at = transformed.columns.findIndex((c) => c.column.name === COLUMN);
    const rows = transformed.values.values.map((row) => {
      if (at === -1) return appendValue(row, org);
      const given = row.values[at];
      const value = PrimitiveValueListNode.is(row)
        ? given
        : ValueNode.is(given as OperationNode)
          ? (given as ValueNode).value
          : given;
      if (value !== org) throw new TenantScopeError('insert into another organization');
      return row;
    });
    let scoped: InsertQueryNode = {
      ...transformed,
      columns: at === -1 ? [...transformed.columns, ColumnNode.create(COLUMN)] : transformed.columns,
      values: ValuesNode.create(rows),
    };
    // ON CONFLICT DO UPDATE must not reach a conflicting row of another organization.
    if (scoped.onConflict?.updates) {
      const filter = this.#filterFor(scoped.into!)!;
      const updateWhere = scoped.onConflict.updateWhere;
      scoped = {
        ...scoped,
        onConflict: {
          ...scoped.onConflict,
          updateWhere: updateWhere
            ? { ...updateWhere, where: AndNode.create(updateWhere.where, filter) }
            : { kind: 'WhereNode', where: filter },
        },
      };
    }
    return scoped;
  }

  protected override transformMergeQuery(node: MergeQueryNode, queryId?: QueryId): MergeQueryNode {
    const target = AliasNode.is(node.into) ? node.into.node : node.into;
    if (TableNode.is(target) && this.#isTenant(target)) {
      throw new TenantScopeError('MERGE is not supported on tenant tables');
    }
    return super.transformMergeQuery(node, queryId);
  }
}

/**
 * Whether `filter` is already one of the AND-ed terms of `condition`. A sub-query built from a
 * scoped Kysely is rewritten when it is embedded and again with its parent: filter once.
 */
function contains(condition: OperationNode | undefined, filter: BinaryOperationNode): boolean {
  if (!condition) return false;
  if (AndNode.is(condition)) return contains(condition.left, filter) || contains(condition.right, filter);
  return sameFilter(condition, filter);
}

/** Structural equality of two `qualifier.organization_id = value` terms (no serialisation: hot path). */
function sameFilter(node: OperationNode, filter: BinaryOperationNode): boolean {
  if (!BinaryOperationNode.is(node) || !ReferenceNode.is(node.leftOperand) || !ValueNode.is(node.rightOperand)) {
    return false;
  }
  const a = node.leftOperand;
  const b = filter.leftOperand as ReferenceNode;
  return (
    OperatorNode.is(node.operator) &&
    node.operator.operator === '=' &&
    node.rightOperand.value === (filter.rightOperand as ValueNode).value &&
    ColumnNode.is(a.column) &&
    a.column.column.name === COLUMN &&
    a.table?.table.identifier.name === b.table?.table.identifier.name &&
    a.table?.table.schema?.name === b.table?.table.schema?.name
  );
}

function appendValue(row: ValueListNode | PrimitiveValueListNode, value: number) {
  return PrimitiveValueListNode.is(row)
    ? PrimitiveValueListNode.create([...row.values, value])
    : ValueListNode.create([...row.values, ValueNode.create(value)]);
}
