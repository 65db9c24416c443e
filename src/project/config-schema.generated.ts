// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/fn-config.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * fn.config.json: project settings for the fn CLI. Secrets never go here.
 */
export interface FnConfig {
  $schema?: string;
  /**
   * The app id used in /api/apps/{appId}/... routes.
   */
  appId?: string;
  /**
   * Folder holding config.json and the function sources, relative to this file.
   */
  functionsDir?: string;
  types?: FnTypesConfig;
  /**
   * Named servers for invoke, push and pull.
   */
  remotes?: {
    [k: string]: FnRemote | undefined;
  };
}
export interface FnTypesConfig {
  /**
   * Where fn types writes the declaration file.
   */
  out?: string;
  /**
   * The module whose FunctionNameRegistry is augmented.
   */
  module?: string;
}
export interface FnRemote {
  url: string;
  appId?: string;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/fn-config.schema.json","title":"FnConfig","description":"fn.config.json: project settings for the fn CLI. Secrets never go here.","type":"object","properties":{"$schema":{"type":"string"},"appId":{"description":"The app id used in /api/apps/{appId}/... routes.","type":"string","minLength":1},"functionsDir":{"description":"Folder holding config.json and the function sources, relative to this file.","type":"string","minLength":1,"default":"functions"},"types":{"title":"FnTypesConfig","type":"object","properties":{"out":{"description":"Where fn types writes the declaration file.","type":"string","minLength":1,"default":"types/functions.d.ts"},"module":{"description":"The module whose FunctionNameRegistry is augmented.","type":"string","minLength":1,"default":"@base44/sdk"}},"additionalProperties":false},"remotes":{"description":"Named servers for invoke, push and pull.","type":"object","additionalProperties":{"title":"FnRemote","type":"object","required":["url"],"properties":{"url":{"type":"string","minLength":1},"appId":{"type":"string","minLength":1}},"additionalProperties":false}}},"additionalProperties":false};
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/fn-config.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  for(const key0 in data){
  if(!(((((key0 === "$schema") || (key0 === "appId")) || (key0 === "functionsDir")) || (key0 === "types")) || (key0 === "remotes"))){
  const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  }
  if(data.$schema !== undefined){
  if(typeof data.$schema !== "string"){
  const err1 = {instancePath:instancePath+"/$schema",schemaPath:"#/properties/%24schema/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  }
  if(data.appId !== undefined){
  let data1 = data.appId;
  if(typeof data1 === "string"){
  if(data1.length < 1){
  const err2 = {instancePath:instancePath+"/appId",schemaPath:"#/properties/appId/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
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
  const err3 = {instancePath:instancePath+"/appId",schemaPath:"#/properties/appId/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.functionsDir !== undefined){
  let data2 = data.functionsDir;
  if(typeof data2 === "string"){
  if(data2.length < 1){
  const err4 = {instancePath:instancePath+"/functionsDir",schemaPath:"#/properties/functionsDir/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  else {
  const err5 = {instancePath:instancePath+"/functionsDir",schemaPath:"#/properties/functionsDir/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  if(data.types !== undefined){
  let data3 = data.types;
  if(data3 && typeof data3 == "object" && !Array.isArray(data3)){
  for(const key1 in data3){
  if(!((key1 === "out") || (key1 === "module"))){
  const err6 = {instancePath:instancePath+"/types",schemaPath:"#/properties/types/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key1},message:"must NOT have additional properties"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data3.out !== undefined){
  let data4 = data3.out;
  if(typeof data4 === "string"){
  if(data4.length < 1){
  const err7 = {instancePath:instancePath+"/types/out",schemaPath:"#/properties/types/properties/out/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  else {
  const err8 = {instancePath:instancePath+"/types/out",schemaPath:"#/properties/types/properties/out/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data3.module !== undefined){
  let data5 = data3.module;
  if(typeof data5 === "string"){
  if(data5.length < 1){
  const err9 = {instancePath:instancePath+"/types/module",schemaPath:"#/properties/types/properties/module/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  }
  else {
  const err10 = {instancePath:instancePath+"/types/module",schemaPath:"#/properties/types/properties/module/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  }
  }
  else {
  const err11 = {instancePath:instancePath+"/types",schemaPath:"#/properties/types/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data.remotes !== undefined){
  let data6 = data.remotes;
  if(data6 && typeof data6 == "object" && !Array.isArray(data6)){
  for(const key2 in data6){
  let data7 = data6[key2];
  if(data7 && typeof data7 == "object" && !Array.isArray(data7)){
  if(data7.url === undefined){
  const err12 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/remotes/additionalProperties/required",keyword:"required",params:{missingProperty: "url"},message:"must have required property '"+"url"+"'"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  for(const key3 in data7){
  if(!((key3 === "url") || (key3 === "appId"))){
  const err13 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/remotes/additionalProperties/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key3},message:"must NOT have additional properties"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  }
  if(data7.url !== undefined){
  let data8 = data7.url;
  if(typeof data8 === "string"){
  if(data8.length < 1){
  const err14 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1")+"/url",schemaPath:"#/properties/remotes/additionalProperties/properties/url/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err14];
  }
  else {
  vErrors.push(err14);
  }
  errors++;
  }
  }
  else {
  const err15 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1")+"/url",schemaPath:"#/properties/remotes/additionalProperties/properties/url/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err15];
  }
  else {
  vErrors.push(err15);
  }
  errors++;
  }
  }
  if(data7.appId !== undefined){
  let data9 = data7.appId;
  if(typeof data9 === "string"){
  if(data9.length < 1){
  const err16 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1")+"/appId",schemaPath:"#/properties/remotes/additionalProperties/properties/appId/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err16];
  }
  else {
  vErrors.push(err16);
  }
  errors++;
  }
  }
  else {
  const err17 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1")+"/appId",schemaPath:"#/properties/remotes/additionalProperties/properties/appId/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err17];
  }
  else {
  vErrors.push(err17);
  }
  errors++;
  }
  }
  }
  else {
  const err18 = {instancePath:instancePath+"/remotes/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/remotes/additionalProperties/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err18];
  }
  else {
  vErrors.push(err18);
  }
  errors++;
  }
  }
  }
  else {
  const err19 = {instancePath:instancePath+"/remotes",schemaPath:"#/properties/remotes/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err19];
  }
  else {
  vErrors.push(err19);
  }
  errors++;
  }
  }
  }
  else {
  const err20 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err20];
  }
  else {
  vErrors.push(err20);
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
export const validateFnConfigSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/fn-config.schema.json","title":"FnConfig","description":"fn.config.json: project settings for the fn CLI. Secrets never go here.","type":"object","properties":{"$schema":{"type":"string"},"appId":{"description":"The app id used in /api/apps/{appId}/... routes.","type":"string","minLength":1},"functionsDir":{"description":"Folder holding config.json and the function sources, relative to this file.","type":"string","minLength":1,"default":"functions"},"types":{"title":"FnTypesConfig","type":"object","properties":{"out":{"description":"Where fn types writes the declaration file.","type":"string","minLength":1,"default":"types/functions.d.ts"},"module":{"description":"The module whose FunctionNameRegistry is augmented.","type":"string","minLength":1,"default":"@base44/sdk"}},"additionalProperties":false},"remotes":{"description":"Named servers for invoke, push and pull.","type":"object","additionalProperties":{"title":"FnRemote","type":"object","required":["url"],"properties":{"url":{"type":"string","minLength":1},"appId":{"type":"string","minLength":1}},"additionalProperties":false}}},"additionalProperties":false} as const;
