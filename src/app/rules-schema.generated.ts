// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/rules.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * true, false, or a JSON expression (%%user, %%root, %function, ...).
 */
export type Expression =
  | boolean
  | {
      [k: string]: unknown | undefined;
    };

/**
 * data_sources/<name>/<db>/<coll>/rules.json and data_sources/<name>/default_rule.json: roles and filters applied when a function runs as a user.
 */
export interface CollectionRules {
  $schema?: string;
  id?: string;
  /**
   * The database; the folder name wins.
   */
  database?: string;
  /**
   * The collection; the folder name wins.
   */
  collection?: string;
  /**
   * Tried in order for each document: the first whose apply_when holds is the caller's role for it.
   */
  roles?: Role[];
  /**
   * Each filter whose apply_when holds narrows every query and write.
   */
  filters?: Filter[];
  [k: string]: unknown | undefined;
}
export interface Role {
  name: string;
  apply_when?: Expression;
  document_filters?: {
    read?: Expression;
    write?: Expression;
    [k: string]: unknown | undefined;
  };
  read?: Expression;
  write?: Expression;
  insert?: Expression;
  delete?: Expression;
  search?: Expression;
  fields?: {
    [k: string]: FieldRule | undefined;
  };
  additional_fields?: FieldRule | undefined;
  [k: string]: unknown | undefined;
}
export interface FieldRule {
  read?: Expression;
  write?: Expression;
  fields?: {
    [k: string]: FieldRule | undefined;
  };
  [k: string]: unknown | undefined;
}
export interface Filter {
  name: string;
  apply_when?: Expression;
  query?: {
    [k: string]: unknown | undefined;
  };
  projection?: {
    [k: string]: unknown | undefined;
  };
  project?: {
    [k: string]: unknown | undefined;
  };
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/rules.schema.json","title":"CollectionRules","description":"data_sources/<name>/<db>/<coll>/rules.json and data_sources/<name>/default_rule.json: roles and filters applied when a function runs as a user.","type":"object","properties":{"$schema":{"type":"string"},"id":{"type":"string"},"database":{"description":"The database; the folder name wins.","type":"string"},"collection":{"description":"The collection; the folder name wins.","type":"string"},"roles":{"description":"Tried in order for each document: the first whose apply_when holds is the caller's role for it.","type":"array","items":{"$ref":"#/definitions/Role"}},"filters":{"description":"Each filter whose apply_when holds narrows every query and write.","type":"array","items":{"$ref":"#/definitions/Filter"}}},"definitions":{"Expression":{"description":"true, false, or a JSON expression (%%user, %%root, %function, ...).","type":["boolean","object"]},"FieldRule":{"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}}}},"Role":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"document_filters":{"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"}}},"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"insert":{"$ref":"#/definitions/Expression"},"delete":{"$ref":"#/definitions/Expression"},"search":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}},"additional_fields":{"$ref":"#/definitions/FieldRule"}}},"Filter":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"query":{"type":"object"},"projection":{"type":"object"},"project":{"type":"object"}}}}};
  const schema12 = {"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"document_filters":{"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"}}},"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"insert":{"$ref":"#/definitions/Expression"},"delete":{"$ref":"#/definitions/Expression"},"search":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}},"additional_fields":{"$ref":"#/definitions/FieldRule"}}};
  const schema13 = {"description":"true, false, or a JSON expression (%%user, %%root, %function, ...).","type":["boolean","object"]};
  const schema21 = {"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}}}};
  const wrapper0 = {validate: validate12};
  
  function validate12(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.read !== undefined){
  let data0 = data.read;
  if((typeof data0 !== "boolean") && (!(data0 && typeof data0 == "object" && !Array.isArray(data0)))){
  const err0 = {instancePath:instancePath+"/read",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  }
  if(data.write !== undefined){
  let data1 = data.write;
  if((typeof data1 !== "boolean") && (!(data1 && typeof data1 == "object" && !Array.isArray(data1)))){
  const err1 = {instancePath:instancePath+"/write",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  }
  if(data.fields !== undefined){
  let data2 = data.fields;
  if(data2 && typeof data2 == "object" && !Array.isArray(data2)){
  for(const key0 in data2){
  if(!(wrapper0.validate(data2[key0], {instancePath:instancePath+"/fields/" + key0.replace(/~/g, "~0").replace(/\//g, "~1"),parentData:data2,parentDataProperty:key0,rootData}))){
  vErrors = vErrors === null ? wrapper0.validate.errors : vErrors.concat(wrapper0.validate.errors);
  errors = vErrors.length;
  }
  }
  }
  else {
  const err2 = {instancePath:instancePath+"/fields",schemaPath:"#/properties/fields/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  }
  else {
  const err3 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  validate12.errors = vErrors;
  return errors === 0;
  }
  
  
  function validate11(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.name === undefined){
  const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "name"},message:"must have required property '"+"name"+"'"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  if(data.name !== undefined){
  let data0 = data.name;
  if(typeof data0 === "string"){
  if(data0.length > 100){
  const err1 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/maxLength",keyword:"maxLength",params:{limit: 100},message:"must NOT have more than 100 characters"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  if(data0.length < 1){
  const err2 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  else {
  const err3 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.apply_when !== undefined){
  let data1 = data.apply_when;
  if((typeof data1 !== "boolean") && (!(data1 && typeof data1 == "object" && !Array.isArray(data1)))){
  const err4 = {instancePath:instancePath+"/apply_when",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.document_filters !== undefined){
  let data2 = data.document_filters;
  if(data2 && typeof data2 == "object" && !Array.isArray(data2)){
  if(data2.read !== undefined){
  let data3 = data2.read;
  if((typeof data3 !== "boolean") && (!(data3 && typeof data3 == "object" && !Array.isArray(data3)))){
  const err5 = {instancePath:instancePath+"/document_filters/read",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  if(data2.write !== undefined){
  let data4 = data2.write;
  if((typeof data4 !== "boolean") && (!(data4 && typeof data4 == "object" && !Array.isArray(data4)))){
  const err6 = {instancePath:instancePath+"/document_filters/write",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  }
  else {
  const err7 = {instancePath:instancePath+"/document_filters",schemaPath:"#/properties/document_filters/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  if(data.read !== undefined){
  let data5 = data.read;
  if((typeof data5 !== "boolean") && (!(data5 && typeof data5 == "object" && !Array.isArray(data5)))){
  const err8 = {instancePath:instancePath+"/read",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data.write !== undefined){
  let data6 = data.write;
  if((typeof data6 !== "boolean") && (!(data6 && typeof data6 == "object" && !Array.isArray(data6)))){
  const err9 = {instancePath:instancePath+"/write",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  }
  if(data.insert !== undefined){
  let data7 = data.insert;
  if((typeof data7 !== "boolean") && (!(data7 && typeof data7 == "object" && !Array.isArray(data7)))){
  const err10 = {instancePath:instancePath+"/insert",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  }
  if(data.delete !== undefined){
  let data8 = data.delete;
  if((typeof data8 !== "boolean") && (!(data8 && typeof data8 == "object" && !Array.isArray(data8)))){
  const err11 = {instancePath:instancePath+"/delete",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data.search !== undefined){
  let data9 = data.search;
  if((typeof data9 !== "boolean") && (!(data9 && typeof data9 == "object" && !Array.isArray(data9)))){
  const err12 = {instancePath:instancePath+"/search",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  }
  if(data.fields !== undefined){
  let data10 = data.fields;
  if(data10 && typeof data10 == "object" && !Array.isArray(data10)){
  for(const key0 in data10){
  if(!(validate12(data10[key0], {instancePath:instancePath+"/fields/" + key0.replace(/~/g, "~0").replace(/\//g, "~1"),parentData:data10,parentDataProperty:key0,rootData}))){
  vErrors = vErrors === null ? validate12.errors : vErrors.concat(validate12.errors);
  errors = vErrors.length;
  }
  }
  }
  else {
  const err13 = {instancePath:instancePath+"/fields",schemaPath:"#/properties/fields/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  }
  if(data.additional_fields !== undefined){
  if(!(validate12(data.additional_fields, {instancePath:instancePath+"/additional_fields",parentData:data,parentDataProperty:"additional_fields",rootData}))){
  vErrors = vErrors === null ? validate12.errors : vErrors.concat(validate12.errors);
  errors = vErrors.length;
  }
  }
  }
  else {
  const err14 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err14];
  }
  else {
  vErrors.push(err14);
  }
  errors++;
  }
  validate11.errors = vErrors;
  return errors === 0;
  }
  
  const schema24 = {"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"query":{"type":"object"},"projection":{"type":"object"},"project":{"type":"object"}}};
  
  function validate16(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.name === undefined){
  const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "name"},message:"must have required property '"+"name"+"'"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  if(data.name !== undefined){
  let data0 = data.name;
  if(typeof data0 === "string"){
  if(data0.length > 100){
  const err1 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/maxLength",keyword:"maxLength",params:{limit: 100},message:"must NOT have more than 100 characters"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  if(data0.length < 1){
  const err2 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  else {
  const err3 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.apply_when !== undefined){
  let data1 = data.apply_when;
  if((typeof data1 !== "boolean") && (!(data1 && typeof data1 == "object" && !Array.isArray(data1)))){
  const err4 = {instancePath:instancePath+"/apply_when",schemaPath:"#/definitions/Expression/type",keyword:"type",params:{type: schema13.type},message:"must be boolean,object"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.query !== undefined){
  let data2 = data.query;
  if(!(data2 && typeof data2 == "object" && !Array.isArray(data2))){
  const err5 = {instancePath:instancePath+"/query",schemaPath:"#/properties/query/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  if(data.projection !== undefined){
  let data3 = data.projection;
  if(!(data3 && typeof data3 == "object" && !Array.isArray(data3))){
  const err6 = {instancePath:instancePath+"/projection",schemaPath:"#/properties/projection/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data.project !== undefined){
  let data4 = data.project;
  if(!(data4 && typeof data4 == "object" && !Array.isArray(data4))){
  const err7 = {instancePath:instancePath+"/project",schemaPath:"#/properties/project/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  }
  else {
  const err8 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  validate16.errors = vErrors;
  return errors === 0;
  }
  
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/rules.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.$schema !== undefined){
  if(typeof data.$schema !== "string"){
  const err0 = {instancePath:instancePath+"/$schema",schemaPath:"#/properties/%24schema/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  }
  if(data.id !== undefined){
  if(typeof data.id !== "string"){
  const err1 = {instancePath:instancePath+"/id",schemaPath:"#/properties/id/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  }
  if(data.database !== undefined){
  if(typeof data.database !== "string"){
  const err2 = {instancePath:instancePath+"/database",schemaPath:"#/properties/database/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  if(data.collection !== undefined){
  if(typeof data.collection !== "string"){
  const err3 = {instancePath:instancePath+"/collection",schemaPath:"#/properties/collection/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.roles !== undefined){
  let data4 = data.roles;
  if(Array.isArray(data4)){
  const len0 = data4.length;
  for(let i0=0; i0<len0; i0++){
  if(!(validate11(data4[i0], {instancePath:instancePath+"/roles/" + i0,parentData:data4,parentDataProperty:i0,rootData}))){
  vErrors = vErrors === null ? validate11.errors : vErrors.concat(validate11.errors);
  errors = vErrors.length;
  }
  }
  }
  else {
  const err4 = {instancePath:instancePath+"/roles",schemaPath:"#/properties/roles/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.filters !== undefined){
  let data6 = data.filters;
  if(Array.isArray(data6)){
  const len1 = data6.length;
  for(let i1=0; i1<len1; i1++){
  if(!(validate16(data6[i1], {instancePath:instancePath+"/filters/" + i1,parentData:data6,parentDataProperty:i1,rootData}))){
  vErrors = vErrors === null ? validate16.errors : vErrors.concat(validate16.errors);
  errors = vErrors.length;
  }
  }
  }
  else {
  const err5 = {instancePath:instancePath+"/filters",schemaPath:"#/properties/filters/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  }
  else {
  const err6 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  validate10.errors = vErrors;
  return errors === 0;
  }
  return validate10;
})() as unknown as SchemaValidator;

export interface SchemaError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
export const validateRulesSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/rules.schema.json","title":"CollectionRules","description":"data_sources/<name>/<db>/<coll>/rules.json and data_sources/<name>/default_rule.json: roles and filters applied when a function runs as a user.","type":"object","properties":{"$schema":{"type":"string"},"id":{"type":"string"},"database":{"description":"The database; the folder name wins.","type":"string"},"collection":{"description":"The collection; the folder name wins.","type":"string"},"roles":{"description":"Tried in order for each document: the first whose apply_when holds is the caller's role for it.","type":"array","items":{"$ref":"#/definitions/Role"}},"filters":{"description":"Each filter whose apply_when holds narrows every query and write.","type":"array","items":{"$ref":"#/definitions/Filter"}}},"definitions":{"Expression":{"description":"true, false, or a JSON expression (%%user, %%root, %function, ...).","type":["boolean","object"]},"FieldRule":{"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}}}},"Role":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"document_filters":{"type":"object","properties":{"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"}}},"read":{"$ref":"#/definitions/Expression"},"write":{"$ref":"#/definitions/Expression"},"insert":{"$ref":"#/definitions/Expression"},"delete":{"$ref":"#/definitions/Expression"},"search":{"$ref":"#/definitions/Expression"},"fields":{"type":"object","additionalProperties":{"$ref":"#/definitions/FieldRule"}},"additional_fields":{"$ref":"#/definitions/FieldRule"}}},"Filter":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},"apply_when":{"$ref":"#/definitions/Expression"},"query":{"type":"object"},"projection":{"type":"object"},"project":{"type":"object"}}}}} as const;
